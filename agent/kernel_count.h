// KernelCount: the kernel fast path's own count of the packets it delivered, as `nlbctl report`
// shows it. Reading it is a libnftables listing (a millisecond when idle, tens of milliseconds on
// a loaded machine), so it is read on the kernel worker, never on the event loop: Refresh
// submits one read when none is outstanding, and the loop shows the last value read with its
// age. The agent refreshes it once per heartbeat period, and a report that finds it older than
// that asks for a new read (that report still shows the older value).
//
// Loop thread only; the read itself runs on the worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "agent/kernel_programmer.h"
#include "agent/kernel_worker.h"
#include "agent/loop_clock.h"

namespace nlb::agent {

class KernelCount {
 public:
  // All three outlive this object.
  KernelCount(LoopClock& clock, KernelJobs& worker, KernelProgrammer& kernel)
      : clock_(clock), worker_(worker), kernel_(kernel) {}
  ~KernelCount() { *alive_ = false; }
  KernelCount(const KernelCount&) = delete;
  KernelCount& operator=(const KernelCount&) = delete;

  // Reads the counter again unless a read is outstanding or the last one is younger than max_age.
  void Refresh(std::chrono::milliseconds max_age);
  // The last value read; nullopt before the first read, or when the last read failed.
  std::optional<uint64_t> packets() const { return packets_; }
  // How old packets() is; nullopt before the first read.
  std::optional<std::chrono::milliseconds> age() const;
  uint64_t reads() const { return reads_; }
  uint64_t read_errors() const { return read_errors_; }

 private:
  LoopClock& clock_;
  KernelJobs& worker_;
  KernelProgrammer& kernel_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted completions
  bool reading_ = false;
  std::optional<std::chrono::steady_clock::time_point> read_at_;
  std::optional<uint64_t> packets_;
  uint64_t reads_ = 0;
  uint64_t read_errors_ = 0;
};

}  // namespace nlb::agent
