// MapPublisher: what HostLoop needs of the back end that takes its maps into force, so the loop
// is the same code for both data paths (docs/data-path.md): FastPathSwitch (capture + TUN, with
// the nftables fast path; agent/fast_path_switch.h) and BpfSwitch (the tc program decides every
// packet; agent/bpf_switch.h). Both write the kernel on the KernelWorker and hold the
// announcement of a new map until it is in force.
//
// Loop thread only.
#pragma once

#include <chrono>
#include <memory>

#include "common/map_snapshot.h"

namespace nlb::agent {

class MapPublisher {
 public:
  virtual ~MapPublisher() = default;
  // Serves next from now on (at once or after the kernel's steps; the latest map wins).
  virtual void Apply(std::shared_ptr<MapSnapshot> next) = 0;
  // True while a map must reach the kernel before the agent announces it.
  virtual bool holds_announcement() const = 0;
  // Grants the kernel lease until `until` (a job; in force once it is done).
  virtual void RenewLease(std::chrono::steady_clock::time_point until) = 0;
  // The latest kernel lease the kernel took (it stops accepting by itself at that time).
  virtual std::chrono::steady_clock::time_point granted() const = 0;
  // A map is still on its way into the kernel.
  virtual bool settling() const = 0;
};

}  // namespace nlb::agent
