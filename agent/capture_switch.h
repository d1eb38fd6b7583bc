// CaptureSwitch: the capture back end's MapPublisher (host.data_path capture, or auto where the
// BPF data plane cannot load; docs/data-path.md). The data path thread decides every VIP frame
// by the snapshot it loads per batch and writes the owned ones to the TUN device; nothing in the
// kernel delivers a VIP packet by itself. So a new map is in force as soon as it is published,
// with no kernel step to wait for and no announcement to hold, and the only lease is the
// SnapshotHolder's, which the loop renews per heartbeat and the data path checks per batch and
// per frame: a stopped nlbd writes nothing to the TUN device (docs/protocol.md, "The lease").
//
// What it keeps in the kernel is nlbd's nftables table (the diversion; agent/nft_scripts.h),
// which CheckTable repairs when somebody else changed the ruleset.
//
// Loop thread only; the table is touched only by jobs on the worker.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "agent/kernel_programmer.h"
#include "agent/kernel_worker.h"
#include "agent/map_publisher.h"
#include "common/map_snapshot.h"

namespace nlb::agent {

class CaptureSwitch final : public MapPublisher {
 public:
  // REQUIRES: table outlives the worker's jobs. on_event: a line for the log and the events.
  CaptureSwitch(SnapshotHolder& snapshots, KernelJobs& worker, KernelProgrammer& table,
                std::function<void(const std::string&)> on_event)
      : snapshots_(snapshots), worker_(worker), table_(table), on_event_(std::move(on_event)) {}
  ~CaptureSwitch() override { *alive_ = false; }

  void Apply(std::shared_ptr<MapSnapshot> next) override { snapshots_.Publish(std::move(next)); }
  bool holds_announcement() const override { return false; }
  // Nothing in the kernel takes a lease.
  void RenewLease(std::chrono::steady_clock::time_point) override {}
  std::chrono::steady_clock::time_point granted() const override { return {}; }
  bool settling() const override { return false; }

  // Somebody else changed the ruleset: check nlbd's table, repair it if it was touched.
  void CheckTable(const std::string& why);
  const KernelStats& stats() const { return stats_; }

 private:
  SnapshotHolder& snapshots_;
  KernelJobs& worker_;
  KernelProgrammer& table_;
  std::function<void(const std::string&)> on_event_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted completions
  KernelStats stats_;
};

}  // namespace nlb::agent
