// FastPathSwitch against a fake kernel: the order of a switch (cut the kernel's share under the
// map in force, only then publish the new map and let the agent announce it, then grow), a
// failing kernel (the fast path goes off, the data path delivers everything), the lease (the
// data path counts on the kernel only once the kernel took it) and repairs. The event loop is a
// real io_context; the kernel runs on the real KernelWorker; nothing sleeps: each test runs the
// loop until the event it waits for, with a deadline.
#include "agent/fast_path_switch.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/port_rules.h"

namespace nlb::agent {
namespace {

using std::chrono::milliseconds;

class FakeKernel final : public KernelProgrammer {
 public:
  Status Install(const std::vector<PortRule>&) override { return Status::Ok(); }
  Status SetRules(const std::vector<PortRule>& rules) override {
    Log("rules " + std::to_string(rules.size()));
    return Status::Ok();
  }
  Status SetBuckets(const std::vector<FastPathRule>& fast) override {
    uint64_t n = 0;
    for (const FastPathRule& f : fast) n += f.buckets.Count();
    Log("buckets " + std::to_string(n));
    return fail_buckets ? Status::Error(ErrorCode::kUnavailable, "refused") : Status::Ok();
  }
  Status RenewLease(milliseconds remaining) override {
    Log(remaining.count() > 0 ? "lease" : "no lease");
    return intact ? Status::Ok() : Status::Error(ErrorCode::kUnavailable, "no table");
  }
  Result<bool> Intact() override { return intact.load(); }
  Status Repair() override {
    Log("repair");
    intact = true;
    return Status::Ok();
  }
  Result<uint64_t> DeliveredPackets() override { return uint64_t{0}; }
  void Remove() override {}

  std::vector<std::string> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::atomic<bool> fail_buckets{false};
  std::atomic<bool> intact{true};

 private:
  void Log(std::string call) {
    std::lock_guard lock(mutex_);
    calls_.push_back(std::move(call));
  }
  std::mutex mutex_;
  std::vector<std::string> calls_;
};

const PortRule kWeb = test::MakeRule(std::nullopt, 80, 80, Protocol::kTcp,
                                     FilteringMode::kMultipleHost, Affinity::kNone, "web");

// A serving map of rule web where this host (1) owns buckets [0, owned).
std::shared_ptr<MapSnapshot> Map(uint32_t owned, uint64_t generation) {
  auto s = std::make_shared<MapSnapshot>();
  s->local_host_id = 1;
  s->serving = true;
  s->generation = generation;
  RuleMap r;
  r.rule = kWeb;
  r.bucket_owner.assign(kBucketCount, 2);
  for (uint32_t b = 0; b < owned; ++b) r.bucket_owner[b] = 1;
  s->rules.push_back(std::move(r));
  return s;
}

uint64_t KernelShare(const MapSnapshot& s) {
  return s.rules.empty() || s.rules[0].kernel == nullptr ? 0 : s.rules[0].kernel->Count();
}

class FastPathSwitchTest : public ::testing::Test {
 protected:
  FastPathSwitchTest() {
    FastPathSwitchHooks hooks;
    hooks.announce = [this] { ++announced_; };
    hooks.on_stuck = [this](const std::string&) { ++stuck_; };
    hooks.on_recovered = [] {};
    hooks.on_event = [this](const std::string& line) { events_.push_back(line); };
    switch_ = std::make_unique<FastPathSwitch>(clock_, snapshots_, worker_, kernel_,
                                               std::vector<PortRule>{kWeb}, milliseconds(5000),
                                               std::move(hooks));
  }
  // Runs the loop until pred holds (or 5 s pass: then the test fails on its own checks).
  template <typename Pred>
  void RunUntil(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred() && std::chrono::steady_clock::now() < deadline) io_.run_for(milliseconds(5));
  }
  void Settle() {
    RunUntil([this] { return !switch_->settling(); });
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  SnapshotHolder snapshots_;
  FakeKernel kernel_;
  KernelWorker worker_{io_};
  AsioLoopClock clock_{io_};
  std::unique_ptr<FastPathSwitch> switch_;
  int announced_ = 0;
  int stuck_ = 0;
  std::vector<std::string> events_;
};

TEST_F(FastPathSwitchTest, GainsAfterTheAnnouncementThenPublishesTheKernelShare) {
  switch_->Apply(Map(100, 1));
  // Nothing leaves the kernel: the map is published (the data path delivers all of it) and may
  // be announced at once; the kernel takes the buckets afterwards.
  EXPECT_EQ(announced_, 1);
  EXPECT_FALSE(switch_->holds_announcement());
  EXPECT_EQ(snapshots_.Load()->generation, 1u);
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 0u);
  Settle();
  EXPECT_EQ(kernel_.calls(), (std::vector<std::string>{"buckets 100"}));
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 100u);
  EXPECT_EQ(switch_->kernel_buckets(), 100u);
}

TEST_F(FastPathSwitchTest, CutsUnderTheMapInForceBeforeTheNewMapIsAnnounced) {
  switch_->Apply(Map(100, 1));
  Settle();
  switch_->Apply(Map(40, 2));
  // Step 1: still the old map, with the kernel's share cut to what stays; the announcement waits.
  EXPECT_TRUE(switch_->holds_announcement());
  EXPECT_EQ(announced_, 1);
  EXPECT_EQ(snapshots_.Load()->generation, 1u);
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 40u);
  RunUntil([this] { return announced_ == 2; });
  EXPECT_FALSE(switch_->holds_announcement());
  EXPECT_EQ(snapshots_.Load()->generation, 2u);
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 40u);
  EXPECT_EQ(kernel_.calls(), (std::vector<std::string>{"buckets 100", "buckets 40"}));
}

TEST_F(FastPathSwitchTest, MapsArrivingDuringASwitchAreTakenInOrderLatestWins) {
  switch_->Apply(Map(100, 1));
  switch_->Apply(Map(50, 2));
  switch_->Apply(Map(30, 3));
  Settle();
  EXPECT_EQ(snapshots_.Load()->generation, 3u);
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 30u);
  EXPECT_FALSE(switch_->holds_announcement());
}

TEST_F(FastPathSwitchTest, ARefusedUpdateTurnsTheFastPathOff) {
  kernel_.fail_buckets = true;
  switch_->Apply(Map(100, 1));
  Settle();
  EXPECT_FALSE(switch_->enabled());
  EXPECT_EQ(switch_->stats().errors, 1u);
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 0u);  // the data path delivers everything
  ASSERT_FALSE(events_.empty());
  EXPECT_NE(events_[0].find("refused"), std::string::npos);
  // A reload turns it on again.
  kernel_.fail_buckets = false;
  switch_->SetEnabled(true);
  switch_->Apply(Map(100, 2));
  Settle();
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 100u);
}

TEST_F(FastPathSwitchTest, ARulesChangeRebuildsTheChainWithTheKernelDeliveringNothingFirst) {
  switch_->Apply(Map(100, 1));
  Settle();
  auto next = Map(100, 2);
  next->rules[0].rule.affinity = Affinity::kSingle;
  switch_->Apply(next);
  EXPECT_TRUE(switch_->holds_announcement());
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 0u);
  Settle();
  const auto calls = kernel_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1], "rules 1");
  EXPECT_EQ(calls[2], "buckets 100");
  EXPECT_EQ(KernelShare(*snapshots_.Load()), 100u);
}

TEST_F(FastPathSwitchTest, TheDataPathCountsOnTheKernelOnlyOnceItTookTheLease) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  switch_->RenewLease(until);
  EXPECT_LT(snapshots_.kernel_lease_until(), until);
  RunUntil([&] { return snapshots_.kernel_lease_until() == until; });
  EXPECT_EQ(snapshots_.kernel_lease_until(), until);
  EXPECT_EQ(switch_->stats().lease_renewals, 1u);
}

TEST_F(FastPathSwitchTest, AFlushedTableIsRepairedAndTheLeaseRestored) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  switch_->RenewLease(until);
  RunUntil([&] { return snapshots_.kernel_lease_until() == until; });
  kernel_.intact = false;
  switch_->CheckKernel("test");
  // Until the check is done the data path delivers everything.
  EXPECT_LT(snapshots_.kernel_lease_until(), until);
  RunUntil([this] { return switch_->stats().repairs == 1; });
  EXPECT_EQ(switch_->stats().repairs, 1u);
  RunUntil([&] { return snapshots_.kernel_lease_until() == until; });
  EXPECT_EQ(snapshots_.kernel_lease_until(), until);
  ASSERT_FALSE(events_.empty());
  EXPECT_NE(events_.back().find("repaired"), std::string::npos);
}

TEST_F(FastPathSwitchTest, AnIntactTableIsLeftAlone) {
  switch_->CheckKernel("test");
  Settle();
  RunUntil([this] { return !kernel_.calls().empty(); });
  io_.run_for(milliseconds(20));
  EXPECT_EQ(switch_->stats().repairs, 0u);
  for (const std::string& c : kernel_.calls()) EXPECT_NE(c, "repair");
}

}  // namespace
}  // namespace nlb::agent
