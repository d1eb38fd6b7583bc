// LoopLag: how late the agent's event loop runs its timers, over the last kSamples ticks, for
// `nlbctl report` and the metrics (issue: a stalled loop must be visible). Record one sample per
// tick: the time between when the timer was due and when its handler ran. Pure;
// thread-compatible (the agent's loop thread only).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace nlb {

class LoopLag {
 public:
  static constexpr size_t kSamples = 1024;
  using Duration = std::chrono::microseconds;

  void Record(Duration lag);
  // The q-quantile (0..1, nearest rank) of the samples kept; 0 when there are none.
  Duration Quantile(double q) const;
  Duration max() const { return max_; }  // since start
  uint64_t count() const { return count_; }

 private:
  std::array<Duration, kSamples> samples_{};
  uint64_t count_ = 0;
  Duration max_{0};
};

}  // namespace nlb
