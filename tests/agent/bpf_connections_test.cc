// BpfConnections (agent/bpf_connections.h): the pace of the sweeps (pure), and that a sweep runs
// on the worker by the map in the kernel and stamps the counts with its epoch and generation,
// which Agent::FeedLocalConnections' CountsGeneration rule relies on, with the half-open hold it
// was given. The second part runs the
// real maps: needs root, skips otherwise (the fixture of bpf_flow_table_test).
#include "agent/bpf_connections.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "tests/agent/bpf_flow_table_fixture.h"

namespace nlb {
namespace {

using agent::BpfConnections;
using std::chrono::milliseconds;

TEST(BpfConnectionsInterval, FollowsHoldingAndTheSweepsDuration) {
  struct Case {
    bool holding;
    milliseconds last_sweep;
    milliseconds interval;
  };
  const Case cases[] = {
      {false, milliseconds(0), milliseconds(5000)},
      {false, milliseconds(700), milliseconds(5000)},  // a full table: still every 5 s
      {true, milliseconds(0), milliseconds(100)},
      {true, milliseconds(3), milliseconds(100)},
      {true, milliseconds(50), milliseconds(500)},  // ten durations apart
      {true, milliseconds(700), milliseconds(7000)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(BpfConnections::Interval(c.holding, c.last_sweep), c.interval)
        << c.holding << " " << c.last_sweep.count();
  }
}

// Runs each job and its completion at once, on the test's thread.
class InlineJobs final : public agent::KernelJobs {
 public:
  void Submit(Job job, Done done) override {
    ++submitted;
    done(job(), std::chrono::microseconds(0));
  }
  int submitted = 0;
};

using BpfConnectionsTest = test::BpfFlowTableTest;

TEST_F(BpfConnectionsTest, SweepsByTheMapInTheKernelAtItsPace) {
  auto map = std::make_shared<MapSnapshot>(test::decision_table::Snapshot(test::kTrackedLocal));
  map->generation = 7;
  map->numbering = std::make_shared<const RuleNumbering>(RuleNumbering{3, {}});
  Install(*map);
  OpenFlows(*map, 40);
  InlineJobs jobs;
  std::shared_ptr<const MapSnapshot> in_kernel;
  // A hold no test run reaches: the counts are DescriptorTable's.
  BpfConnections c(
      jobs, *flows_, [&] { return in_kernel; }, std::chrono::hours(1));
  const auto t0 = std::chrono::steady_clock::now();

  // No map published yet: nothing to sweep by, nothing stamped.
  c.Poll(t0 + milliseconds(10000), false);
  EXPECT_EQ(c.sweeps(), 0u);
  EXPECT_EQ(flows_->counts_generation(), 0u);

  in_kernel = map;
  c.Poll(std::chrono::steady_clock::now() + milliseconds(10000), false);
  ASSERT_EQ(c.sweeps(), 1u);
  EXPECT_EQ(c.errors(), 0u);
  EXPECT_EQ(flows_->counts_generation(), 7u);
  EXPECT_EQ(flows_->counts_epoch(), 3u);
  EXPECT_GT(flows_->RuleConnections(test::decision_table::kWebNone), 0u);
  EXPECT_GT(c.counters().program[NLB_FLOW_HALF_OPEN_ADDED], 0u);
  ExpectSameCounts("after the sweep");

  // Not due: 5 s apart when holding nothing, at least 100 ms apart when holding.
  const auto now = std::chrono::steady_clock::now();
  c.Poll(now + milliseconds(4000), false);
  c.Poll(now + milliseconds(50), true);
  EXPECT_EQ(c.sweeps(), 1u);
  c.Poll(std::chrono::steady_clock::now() + BpfConnections::Interval(true, c.last_sweep()), true);
  EXPECT_EQ(c.sweeps(), 2u);

  // The counters alone, between sweeps.
  c.ReadCounters();
  EXPECT_EQ(jobs.submitted, 4);
  EXPECT_EQ(c.errors(), 0u);
}

// The hold reaches every sweep: with none at all, no half-open flow counts, and the report says so.
TEST_F(BpfConnectionsTest, SweepsWithTheHoldItWasGiven) {
  auto map = std::make_shared<MapSnapshot>(test::decision_table::Snapshot(test::kTrackedLocal));
  Install(*map);
  OpenFlows(*map, 40);
  InlineJobs jobs;
  BpfConnections c(
      jobs, *flows_, [&] { return map; }, std::chrono::nanoseconds(0));
  c.Poll(std::chrono::steady_clock::now() + milliseconds(10000), false);
  ASSERT_EQ(c.sweeps(), 1u);
  EXPECT_GT(c.counters().half_open, 0u);
  EXPECT_EQ(c.counters().half_open_past_hold, c.counters().half_open);
  uint64_t counted = 0;
  for (uint32_t r = 0; r < NLB_MAX_RULES; ++r) counted += flows_->RuleConnections(r);
  EXPECT_EQ(counted, c.counters().tracked);
}

}  // namespace
}  // namespace nlb
