// MapPublisher: what HostLoop needs of the back end that takes its maps into force, so the loop
// is the same code for both data paths (docs/data-path.md): CaptureSwitch (capture + TUN: user
// space decides every packet; agent/capture_switch.h) and BpfSwitch (the tc program decides every
// packet; agent/bpf_switch.h). Also what both report of their kernel work (KernelStats), and the
// hooks through which they reach the agent.
//
// Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/map_snapshot.h"

namespace nlb::agent {

struct PublisherHooks {
  std::function<void()> announce;                    // the published map may be announced
  std::function<void(const std::string&)> on_stuck;  // a kernel job passed its deadline
  std::function<void()> on_recovered;                // ... and has finished since
  std::function<void(const std::string&)> on_event;  // a line for the log and the events
};

// The report's "kernel" object: maps written, repairs of what somebody else removed, the lease.
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

class MapPublisher {
 public:
  virtual ~MapPublisher() = default;
  // Serves next from now on (at once or after the kernel's steps; the latest map wins).
  virtual void Apply(std::shared_ptr<MapSnapshot> next) = 0;
  // True while a map must reach the kernel before the agent announces it.
  virtual bool holds_announcement() const = 0;
  // Grants the kernel lease until `until` (a job; in force once it is done). The data path's own
  // lease is the SnapshotHolder's, which the loop sets itself.
  virtual void RenewLease(std::chrono::steady_clock::time_point until) = 0;
  // The latest lease the kernel took (it stops accepting by itself at that time); the start of
  // the clock when nothing in the kernel accepts by itself.
  virtual std::chrono::steady_clock::time_point granted() const = 0;
  // A map is still on its way into the kernel.
  virtual bool settling() const = 0;
};

}  // namespace nlb::agent
