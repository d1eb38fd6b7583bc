// KernelCount: the kernel's packet count is read on the worker, at most one read at a time and
// not more often than asked; the loop shows the last value with its age, and a failed read shows
// no value and is counted. Simulated time and a worker whose jobs run when the test says.
#include "agent/kernel_count.h"

#include <gtest/gtest.h>

#include <deque>
#include <utility>

namespace nlb::agent {
namespace {

using std::chrono::milliseconds;

class ManualClock final : public LoopClock {
 public:
  std::chrono::steady_clock::time_point Now() const override { return now; }
  void Post(std::function<void()> fn) override { fn(); }
  std::unique_ptr<LoopTimer> NewTimer() override { return nullptr; }
  std::chrono::steady_clock::time_point now{std::chrono::seconds(100)};
};

// Jobs wait until RunAll: the test sees what is outstanding.
class ManualJobs final : public KernelJobs {
 public:
  void Submit(Job job, Done done) override { queue.emplace_back(std::move(job), std::move(done)); }
  void RunAll() {
    while (!queue.empty()) {
      auto [job, done] = std::move(queue.front());
      queue.pop_front();
      done(job(), std::chrono::microseconds(0));
    }
  }
  std::deque<std::pair<Job, Done>> queue;
};

class CountingKernel final : public KernelProgrammer {
 public:
  Status Install(const std::vector<PortRule>&) override { return Status::Ok(); }
  Status SetRules(const std::vector<PortRule>&) override { return Status::Ok(); }
  Status SetBuckets(const std::vector<FastPathRule>&) override { return Status::Ok(); }
  Status RenewLease(milliseconds) override { return Status::Ok(); }
  Result<bool> Intact() override { return true; }
  Status Repair() override { return Status::Ok(); }
  Result<uint64_t> DeliveredPackets() override {
    ++reads;
    if (fail) return Status::Error(ErrorCode::kUnavailable, "no table");
    return packets;
  }
  void Remove() override {}
  uint64_t packets = 0;
  int reads = 0;
  bool fail = false;
};

struct KernelCountTest : ::testing::Test {
  ManualClock clock;
  ManualJobs jobs;
  CountingKernel kernel;
  KernelCount count{clock, jobs, kernel};
};

TEST_F(KernelCountTest, NothingBeforeTheFirstRead) {
  EXPECT_FALSE(count.packets());
  EXPECT_FALSE(count.age());
  count.Refresh(milliseconds(1000));
  EXPECT_EQ(kernel.reads, 0) << "the read runs on the worker, not in Refresh";
  EXPECT_FALSE(count.packets());
}

TEST_F(KernelCountTest, OneReadAtATimeAndNotMoreOftenThanAsked) {
  kernel.packets = 7;
  count.Refresh(milliseconds(1000));
  count.Refresh(milliseconds(0));  // one is outstanding: no second
  EXPECT_EQ(jobs.queue.size(), 1u);
  jobs.RunAll();
  EXPECT_EQ(count.packets(), 7u);
  EXPECT_EQ(count.age(), milliseconds(0));

  kernel.packets = 9;
  clock.now += milliseconds(400);
  count.Refresh(milliseconds(1000));  // younger than asked: kept
  EXPECT_TRUE(jobs.queue.empty());
  EXPECT_EQ(count.age(), milliseconds(400));
  clock.now += milliseconds(600);
  count.Refresh(milliseconds(1000));
  EXPECT_EQ(count.packets(), 7u) << "the old value until the read is done";
  jobs.RunAll();
  EXPECT_EQ(count.packets(), 9u);
  EXPECT_EQ(kernel.reads, 2);
  EXPECT_EQ(count.reads(), 2u);
}

TEST_F(KernelCountTest, AFailedReadShowsNoValueAndIsCounted) {
  kernel.packets = 5;
  count.Refresh(milliseconds(0));
  jobs.RunAll();
  kernel.fail = true;
  clock.now += milliseconds(10);
  count.Refresh(milliseconds(0));
  jobs.RunAll();
  EXPECT_FALSE(count.packets());
  EXPECT_EQ(count.read_errors(), 1u);
  kernel.fail = false;
  count.Refresh(milliseconds(0));
  jobs.RunAll();
  EXPECT_EQ(count.packets(), 5u);
}

TEST_F(KernelCountTest, ACompletionAfterDestructionIsIgnored) {
  auto early = std::make_unique<KernelCount>(clock, jobs, kernel);
  early->Refresh(milliseconds(0));
  early.reset();
  jobs.RunAll();  // must not touch the destroyed object (ASan would say)
  EXPECT_EQ(kernel.reads, 1);
}

}  // namespace
}  // namespace nlb::agent
