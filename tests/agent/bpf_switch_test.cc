// BpfSwitch against a fake BPF kernel: a map is announced only once the program decides by it,
// latest map wins, a failed publish makes the host leave until one goes in, the grace period
// runs after each switch, the lease is counted on once the kernel took it, and the periodic
// check re-attaches a detached program (counted) or makes the host leave when it cannot. The
// event loop is a real io_context; the kernel runs on the real KernelWorker; nothing sleeps:
// each test runs the loop until the event it waits for, with a deadline.
#include "agent/bpf_switch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <mutex>
#include <string>
#include <vector>

namespace nlb::agent {
namespace {

using std::chrono::milliseconds;

class FakeBpfKernel final : public BpfKernel {
 public:
  Status Publish(const MapSnapshot& snapshot) override {
    Log("publish " + std::to_string(snapshot.generation));
    return fail_publish ? Status::Error(ErrorCode::kUnavailable, "refused") : Status::Ok();
  }
  void AwaitGrace() override { Log("grace"); }
  Status RenewLease(std::chrono::nanoseconds remaining) override {
    Log(remaining.count() > 0 ? "lease" : "no lease");
    return Status::Ok();
  }
  Result<BpfPlane::Counters> ReadCounters() override {
    BpfPlane::Counters c;
    c.by_reason[NLB_REASON_OWNED_BUCKET].packets = owned_packets.load();
    return c;
  }
  Result<bool> Attached() override { return attached.load(); }
  Status Attach() override {
    Log("attach");
    if (fail_attach) return Status::Error(ErrorCode::kUnavailable, "no such device");
    attached = true;
    return Status::Ok();
  }

  std::vector<std::string> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::atomic<bool> fail_publish{false};
  std::atomic<bool> fail_attach{false};
  std::atomic<bool> attached{true};
  std::atomic<uint64_t> owned_packets{0};

 private:
  void Log(std::string call) {
    std::lock_guard lock(mutex_);
    calls_.push_back(std::move(call));
  }
  std::mutex mutex_;
  std::vector<std::string> calls_;
};

std::shared_ptr<MapSnapshot> Map(uint64_t generation) {
  auto s = std::make_shared<MapSnapshot>();
  s->local_host_id = 1;
  s->serving = true;
  s->generation = generation;
  return s;
}

class BpfSwitchTest : public ::testing::Test {
 protected:
  BpfSwitchTest() {
    PublisherHooks hooks;
    hooks.announce = [this] { ++announced_; };
    hooks.on_stuck = [this](const std::string& why) {
      ++stuck_;
      why_ = why;
    };
    hooks.on_recovered = [this] { ++recovered_; };
    hooks.on_event = [this](const std::string& line) { events_.push_back(line); };
    switch_ = std::make_unique<BpfSwitch>(clock_, snapshots_, worker_, kernel_, "eth0",
                                          milliseconds(5000), std::move(hooks));
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
  FakeBpfKernel kernel_;
  KernelWorker worker_{io_};
  AsioLoopClock clock_{io_};
  std::unique_ptr<BpfSwitch> switch_;
  int announced_ = 0;
  int stuck_ = 0;
  int recovered_ = 0;
  std::string why_;
  std::vector<std::string> events_;
};

TEST_F(BpfSwitchTest, AMapIsAnnouncedOnlyOnceTheProgramDecidesByIt) {
  switch_->Apply(Map(1));
  EXPECT_TRUE(switch_->holds_announcement());
  EXPECT_EQ(announced_, 0);
  EXPECT_EQ(switch_->applied_generation(), 0u);
  EXPECT_EQ(snapshots_.Load()->generation, 0u);
  RunUntil([this] { return announced_ == 1; });
  EXPECT_FALSE(switch_->holds_announcement());
  EXPECT_EQ(switch_->applied_generation(), 1u);
  EXPECT_EQ(snapshots_.Load()->generation, 1u);  // the neighbour answers and views follow
  Settle();
  RunUntil([this] { return kernel_.calls().size() >= 2; });
  // The grace period the next switch needs runs after the announcement, as a job of its own.
  EXPECT_EQ(kernel_.calls(), (std::vector<std::string>{"publish 1", "grace"}));
  EXPECT_EQ(switch_->stats().updates, 1u);
}

TEST_F(BpfSwitchTest, MapsArrivingDuringAPublishAreTakenLatestWins) {
  switch_->Apply(Map(1));
  switch_->Apply(Map(2));
  switch_->Apply(Map(3));
  Settle();
  RunUntil([this] { return kernel_.calls().size() >= 4; });
  EXPECT_EQ(switch_->applied_generation(), 3u);
  EXPECT_EQ(kernel_.calls(),
            (std::vector<std::string>{"publish 1", "grace", "publish 3", "grace"}));
  EXPECT_EQ(announced_, 2);
}

TEST_F(BpfSwitchTest, AFailedPublishLeavesTheClusterUntilAMapGoesIn) {
  kernel_.fail_publish = true;
  switch_->Apply(Map(1));
  RunUntil([this] { return stuck_ == 1; });
  EXPECT_EQ(stuck_, 1);
  EXPECT_NE(why_.find("refused"), std::string::npos);
  EXPECT_EQ(switch_->applied_generation(), 0u);  // the program decides by the map before
  EXPECT_EQ(switch_->stats().errors, 1u);
  EXPECT_FALSE(switch_->holds_announcement());  // held datagrams go (the host says it leaves)
  kernel_.fail_publish = false;
  switch_->Apply(Map(2));
  RunUntil([this] { return recovered_ == 1; });
  EXPECT_EQ(recovered_, 1);
  EXPECT_EQ(switch_->applied_generation(), 2u);
}

TEST_F(BpfSwitchTest, TheLeaseIsCountedOnOnceTheKernelTookIt) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  switch_->RenewLease(until);
  EXPECT_LT(snapshots_.kernel_lease_until(), until);
  RunUntil([&] { return switch_->granted() == until; });
  EXPECT_EQ(snapshots_.kernel_lease_until(), until);
  EXPECT_EQ(switch_->stats().lease_renewals, 1u);
  EXPECT_EQ(kernel_.calls(), (std::vector<std::string>{"lease"}));
}

TEST_F(BpfSwitchTest, ACheckReadsTheCountersAndLeavesAnAttachedProgramAlone) {
  kernel_.owned_packets = 42;
  switch_->Check();
  RunUntil([this] { return switch_->checks() == 1; });
  EXPECT_EQ(switch_->counters().by_reason[NLB_REASON_OWNED_BUCKET].packets, 42u);
  EXPECT_EQ(switch_->stats().repairs, 0u);
  EXPECT_TRUE(kernel_.calls().empty());
}

TEST_F(BpfSwitchTest, ACheckReattachesADetachedProgramAndCountsTheRepair) {
  kernel_.attached = false;
  switch_->Check();
  switch_->Check();  // while one runs, another is not queued
  RunUntil([this] { return switch_->checks() == 1; });
  io_.run_for(milliseconds(20));
  EXPECT_EQ(switch_->checks(), 1u);
  EXPECT_EQ(switch_->stats().repairs, 1u);
  EXPECT_EQ(kernel_.calls(), (std::vector<std::string>{"attach"}));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_NE(events_[0].find("re-attached the BPF data plane's program to eth0"), std::string::npos);
  EXPECT_EQ(stuck_, 0);
}

TEST_F(BpfSwitchTest, AProgramThatCannotBeAttachedLeavesTheClusterUntilItIs) {
  kernel_.attached = false;
  kernel_.fail_attach = true;
  switch_->Check();
  RunUntil([this] { return stuck_ == 1; });
  EXPECT_NE(why_.find("no such device"), std::string::npos);
  switch_->Check();
  RunUntil([this] { return switch_->checks() == 2; });
  EXPECT_EQ(stuck_, 1);  // said once
  kernel_.fail_attach = false;
  switch_->Check();
  RunUntil([this] { return recovered_ == 1; });
  EXPECT_EQ(recovered_, 1);
  EXPECT_EQ(switch_->stats().repairs, 1u);
}

}  // namespace
}  // namespace nlb::agent
