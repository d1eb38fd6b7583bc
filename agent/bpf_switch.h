// BpfSwitch: the BPF back end's MapPublisher (host.data_path bpf; docs/bpf-data-plane.md). The
// tc program decides every packet, so a new map is in force once BpfPlane::Publish has written
// it into the inactive half and flipped the index: one job on the KernelWorker, and the agent
// announces the map only when that job is done (holds_announcement). With one decider there is
// no cut and no drained round to wait for. The lease is BpfPlane::RenewLease per heartbeat; the
// program compares it with bpf_ktime_get_ns() by itself.
//
// Once per heartbeat period the agent calls Check: a job that asks the kernel whether nlbd's tc
// filter is still attached (`tc filter del`, `tc qdisc del dev IF clsact`, the interface made
// again) and attaches it again if not, then reads the per-CPU counters. The loop shows the
// counters as of the last check; it never calls libbpf itself. A job that holds the
// announcement past `deadline`, or a check that cannot attach the program, makes the host leave
// the cluster (on_stuck) until a later one succeeds (on_recovered). After each flip it runs the
// grace period the next Publish needs as a job of its own, so it delays no announcement.
//
// Loop thread only; the BpfKernel is touched only by jobs on the worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/bpf_attach.h"
#include "agent/bpf_flow_table.h"
#include "agent/bpf_plane.h"
#include "agent/kernel_programmer.h"
#include "agent/kernel_worker.h"
#include "agent/loop_clock.h"
#include "agent/map_publisher.h"
#include "common/map_snapshot.h"

namespace nlb::agent {

// What BpfSwitch drives in the kernel, on the worker's thread: BpfPlane and its tc or XDP
// attachment (BpfPlaneKernel), or a fake in tests.
class BpfKernel {
 public:
  virtual ~BpfKernel() = default;
  [[nodiscard]] virtual Status Publish(const MapSnapshot& snapshot) = 0;
  virtual void AwaitGrace() = 0;
  [[nodiscard]] virtual Status RenewLease(std::chrono::nanoseconds remaining) = 0;
  virtual Result<BpfPlane::Counters> ReadCounters() = 0;
  virtual Result<bool> Attached() = 0;  // the program is on its hook
  [[nodiscard]] virtual Status Attach() = 0;
};

class BpfPlaneKernel final : public BpfKernel {
 public:
  // REQUIRES: attachment holds plane's program; both outlive this.
  BpfPlaneKernel(BpfPlane& plane, ProgramAttachment& attachment)
      : plane_(plane), attachment_(attachment) {}
  Status Publish(const MapSnapshot& snapshot) override { return plane_.Publish(snapshot); }
  void AwaitGrace() override { plane_.AwaitGrace(); }
  Status RenewLease(std::chrono::nanoseconds remaining) override {
    return plane_.RenewLease(remaining);
  }
  Result<BpfPlane::Counters> ReadCounters() override { return plane_.ReadCounters(); }
  Result<bool> Attached() override { return attachment_.Intact(); }
  Status Attach() override { return attachment_.Attach(); }

 private:
  BpfPlane& plane_;
  ProgramAttachment& attachment_;
};

class BpfSwitch final : public MapPublisher {
 public:
  // REQUIRES: kernel outlives the worker's jobs. interface: for the log.
  BpfSwitch(LoopClock& clock, SnapshotHolder& snapshots, KernelJobs& worker, BpfKernel& kernel,
            std::string interface, std::chrono::milliseconds deadline, PublisherHooks hooks);
  ~BpfSwitch() override;

  void Apply(std::shared_ptr<MapSnapshot> next) override;
  bool holds_announcement() const override { return holding_; }
  void RenewLease(std::chrono::steady_clock::time_point until) override;
  std::chrono::steady_clock::time_point granted() const override { return granted_; }
  bool settling() const override { return busy_ || pending_ != nullptr; }

  // Checks the attachment (repairing it) and reads the counters; skipped while one is running.
  void Check();
  // nlbd's nftables table in BPF mode (no VIPs: it holds unicast mode's egress rewrite of the
  // source MAC), repaired like the capture back end's when somebody else changed the ruleset
  // (agent/table_repair.h). REQUIRES: UseTable first.
  void UseTable(KernelProgrammer* table) { table_ = table; }
  void CheckTable(const std::string& why);

  // The kernel connection table, renumbered around the Publish of a new rule numbering
  // (agent/bpf_connections.h). REQUIRES: before the first Apply; outlives the worker's jobs.
  void UseFlowTable(BpfFlowTable* flows) { flows_ = flows; }
  // Worker thread only (a job's): the map the program decides by, null before the first.
  std::shared_ptr<const MapSnapshot> in_kernel() const { return in_kernel_; }
  // The generation of the last map the program decides by (0: none yet).
  uint64_t applied_generation() const { return applied_generation_; }
  const KernelStats& stats() const { return stats_; }
  // As of the last Check.
  const BpfPlane::Counters& counters() const { return counters_; }
  uint64_t checks() const { return checks_; }

 private:
  void Step();
  void Arm(const char* what);
  void Stuck(const std::string& why);
  void Recover();

  LoopClock& clock_;
  SnapshotHolder& snapshots_;
  KernelJobs& worker_;
  BpfKernel& kernel_;
  const std::string interface_;
  KernelProgrammer* table_ = nullptr;
  const std::chrono::milliseconds deadline_;
  PublisherHooks hooks_;
  std::unique_ptr<LoopTimer> deadline_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted completions

  bool busy_ = false;  // a Publish job is outstanding
  bool holding_ = false;
  bool stuck_ = false;  // on_stuck was called and on_recovered not yet
  bool checking_ = false;
  std::shared_ptr<MapSnapshot> pending_;
  BpfFlowTable* flows_ = nullptr;
  std::shared_ptr<const MapSnapshot> in_kernel_;  // the worker's: the last map published
  uint64_t applied_generation_ = 0;
  std::chrono::steady_clock::time_point granted_{};
  KernelStats stats_;
  BpfPlane::Counters counters_;
  uint64_t checks_ = 0;
};

}  // namespace nlb::agent
