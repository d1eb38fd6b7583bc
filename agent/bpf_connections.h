// BpfConnections: nlbd's driver of the kernel connection table (agent/bpf_flow_table.h) with the
// BPF back end (docs/bpf-data-plane.md, "Connection tracking in the kernel"). It paces the
// sweeps, which run as jobs on the kernel worker: every 5 s (a closed flow leaves within close
// delay + 5 s, as with the capture's table), and while this host holds moved buckets every
// 100 ms, yet never sooner after one ends than ten times its duration (a full 1M-flow table
// takes about 0.5 s of a core to sweep). Each sweep uses the map the program decides by when it
// starts (BpfSwitch::in_kernel): its keep rule (owned or moving), its rules' client keys, and its
// numbering epoch and generation stamped on the counts, so Agent::FeedLocalConnections can tell
// when the counts may end a move (CountsGeneration), and the half-open hold
// (cluster.connection_tracking.half_open_hold_s), so that a flood's half-open flows do not keep a
// lost bucket busy until they expire. It also reads the table's counters for the report after
// each sweep.
//
// PublishRenumbering is the one Publish of a snapshot in a new rule numbering: Renumber, Publish,
// FinishRenumber in one worker job, so no sweep can run between them.
//
// Thread: the loop's (Poll and the accessors); the jobs run on the worker. The table's counts
// (table()) may be read from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "agent/bpf_flow_table.h"
#include "agent/bpf_switch.h"
#include "agent/kernel_worker.h"
#include "common/map_snapshot.h"
#include "common/status.h"

namespace nlb::agent {

// Worker thread: publishes next through kernel, renumbering the flows of table (null: none)
// around it when next's rule numbering is not previous's (null: the first map).
[[nodiscard]] Status PublishRenumbering(BpfKernel& kernel, BpfFlowTable* table,
                                        const MapSnapshot* previous, const MapSnapshot& next);

class BpfConnections {
 public:
  using Clock = std::chrono::steady_clock;
  // Called on the worker: the map the program decides by now (null before the first).
  using InKernel = std::function<std::shared_ptr<const MapSnapshot>()>;

  static constexpr std::chrono::milliseconds kSteadyPeriod{5000};
  static constexpr std::chrono::milliseconds kHoldingPeriod{100};
  static constexpr int kDurationsApart = 10;

  // REQUIRES: worker and table outlive the jobs (the worker is destroyed first).
  // half_open_hold: BpfSweepOptions::half_open_hold_ns for every sweep.
  BpfConnections(KernelJobs& worker, BpfFlowTable& table, InKernel in_kernel,
                 std::chrono::nanoseconds half_open_hold);
  BpfConnections(const BpfConnections&) = delete;
  BpfConnections& operator=(const BpfConnections&) = delete;
  ~BpfConnections() { *alive_ = false; }

  // Starts a sweep if one is due at now (see above); holding: this host holds moved buckets.
  void Poll(Clock::time_point now, bool holding);
  // Reads the table's counters (no sweep: about 10 lookups) on the worker, so that the report's
  // counters (e.g. SYNs taken) follow within a period; the counts follow the sweeps.
  void ReadCounters();
  // The least time between the end of one sweep and the start of the next. Pure.
  static Clock::duration Interval(bool holding, Clock::duration last_sweep);

  const BpfFlowTable& table() const { return table_; }
  // As of the last sweep (the program's counters, the sweeps' removals, what is present).
  const BpfFlowCounters& counters() const { return counters_; }
  uint64_t sweeps() const { return sweeps_; }
  uint64_t errors() const { return errors_; }
  std::chrono::microseconds last_sweep() const { return last_sweep_; }
  std::chrono::microseconds slowest_sweep() const { return slowest_sweep_; }
  const std::string& last_error() const { return last_error_; }

 private:
  KernelJobs& worker_;
  BpfFlowTable& table_;
  InKernel in_kernel_;
  const uint64_t half_open_hold_ns_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool sweeping_ = false;
  bool reading_ = false;
  Clock::time_point last_end_{};
  std::chrono::microseconds last_sweep_{0};
  std::chrono::microseconds slowest_sweep_{0};
  BpfFlowCounters counters_;
  uint64_t sweeps_ = 0;
  uint64_t errors_ = 0;
  std::string last_error_;
};

}  // namespace nlb::agent
