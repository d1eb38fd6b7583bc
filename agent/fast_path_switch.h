// FastPathSwitch: moves the data path and the kernel fast path from one map snapshot to the next
// in an order that never loses a packet and never lets two hosts take one SYN, without the event
// loop ever waiting for the kernel. The kernel is written by KernelProgrammer jobs on the
// KernelWorker; the loop reacts to their completions.
//
// A packet the kernel delivered by its old sets must be decided by the map those sets came from
// (the data path tracks a connection only if its decision accepts the SYN). So when buckets
// leave the kernel:
//   1. publish the map in force with the kernel's share cut to what stays (the data path now
//      delivers, by the same map, what the kernel is about to stop delivering);
//   2. delete the leaving buckets from the kernel's sets (a job);
//   3. wait until the data path has drained its ring once after that (posted by the data path);
//   4. publish the new map with that reduced share, and let the agent announce it
//      (holds_announcement() is true from step 1 to here: its heartbeats wait);
//   5. add the gained buckets (a job), then publish the final share. Between the job and the
//      publication a packet may be delivered twice (kernel and data path), never not at all.
// A reload that changes the rules rebuilds the chain with empty sets in step 2 instead.
// A step that holds the announcement past `deadline` makes the host leave the cluster (on_stuck)
// until it finishes (on_recovered). Safety does not wait for the deadline: while the
// announcement is held no heartbeat renews the lease, so a slow step first stops this host from
// accepting (docs/protocol.md);
// a job that fails turns the fast path off until the next reload (the data path then delivers
// everything).
//
// The loop's thread only (agent/loop_clock.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/drained_rounds.h"
#include "agent/kernel_programmer.h"
#include "agent/kernel_worker.h"
#include "agent/loop_clock.h"
#include "agent/map_publisher.h"
#include "common/fast_path.h"
#include "common/map_snapshot.h"

namespace nlb::agent {

struct FastPathSwitchHooks {
  std::function<void()> announce;                    // the published map may be announced
  std::function<void(const std::string&)> on_stuck;  // a kernel job passed its deadline
  std::function<void()> on_recovered;                // ... and has finished since
  std::function<void(const std::string&)> on_event;  // a line for the log and the events
};

struct KernelStats {
  uint64_t updates = 0;
  uint64_t errors = 0;
  uint64_t repairs = 0;
  uint64_t lease_renewals = 0;
  uint64_t lease_errors = 0;
  std::chrono::microseconds last_update{0};
  std::chrono::microseconds slowest_update{0};
  std::chrono::microseconds last_repair{0};
};

class FastPathSwitch final : public MapPublisher {
 public:
  FastPathSwitch(LoopClock& clock, SnapshotHolder& snapshots, KernelJobs& worker,
                 KernelProgrammer& kernel, std::vector<PortRule> installed_rules,
                 std::chrono::milliseconds deadline, FastPathSwitchHooks hooks);
  ~FastPathSwitch() override;

  // REQUIRES: set before the first Apply. The data path whose ring steps 3 wait for.
  void UseDataPath(DrainedRounds* data_path) { data_path_ = data_path; }
  // enabled: host.kernel_fast_path; a reload calls it again (and clears a failure).
  void SetEnabled(bool enabled);
  // Serves next from now on (published at once or after the switch's steps).
  void Apply(std::shared_ptr<MapSnapshot> next) override;
  // True while a switch must finish before the agent announces its map.
  bool holds_announcement() const override { return holding_; }
  // Grants the kernel lease until `until` (a job; the data path counts on it once it is done).
  void RenewLease(std::chrono::steady_clock::time_point until) override;
  // Somebody else changed the ruleset: check the kernel's copy, repair it if it was touched.
  // Until that is done the data path delivers everything itself.
  void CheckKernel(const std::string& why);

  bool enabled() const { return enabled_ && !failed_; }
  bool settling() const override { return busy_ || pending_ != nullptr; }
  uint64_t kernel_buckets() const;
  const KernelStats& stats() const { return stats_; }
  // The latest kernel lease the kernel took (it stops delivering by itself at that time).
  std::chrono::steady_clock::time_point granted() const override { return granted_; }

 private:
  void Step();
  void Finish(std::shared_ptr<MapSnapshot> next, std::vector<FastPathRule> desired);
  void Grow(std::shared_ptr<MapSnapshot> next, std::vector<FastPathRule> desired);
  void Submit(KernelWorker::Job job, std::function<void(Status)> done, bool deadline);
  void Fail(const Status& s, std::shared_ptr<MapSnapshot> next);
  void Record(std::chrono::microseconds took);
  void Arm(const char* what);
  void Recover();  // a step that passed its deadline has finished  // the deadline of a step that
                   // holds the announcement
  void PublishWith(const MapSnapshot& base, const std::vector<FastPathRule>& kernel);

  LoopClock& clock_;
  SnapshotHolder& snapshots_;
  KernelJobs& worker_;
  KernelProgrammer& kernel_;
  DrainedRounds* data_path_ = nullptr;
  const std::chrono::milliseconds deadline_;
  FastPathSwitchHooks hooks_;
  std::unique_ptr<LoopTimer> deadline_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted completions

  bool enabled_ = true;
  bool failed_ = false;  // an nft error: off until the next SetEnabled
  bool busy_ = false;    // a job or a drained round is outstanding
  bool holding_ = false;
  bool stuck_ = false;                               // on_stuck was called for the step outstanding
  std::shared_ptr<MapSnapshot> pending_;             // the latest map not yet taken up
  std::vector<PortRule> chain_rules_;                // the rules the kernel's chain is built for
  std::vector<FastPathRule> installed_;              // non-empty entries: what the kernel delivers
  std::chrono::steady_clock::time_point granted_{};  // the last lease the kernel took
  KernelStats stats_;
};

}  // namespace nlb::agent
