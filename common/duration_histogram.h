// DurationHistogram: counts of observed durations in fixed buckets, the shape a Prometheus
// histogram wants (common/prometheus_text.h). The bounds suit what nlb times: a convergence takes
// from a few milliseconds (one lost heartbeat) to tens of seconds (a tolerance of silence).
// A plain value: the owner (the agent's loop thread) observes, readers get copies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace nlb {

class DurationHistogram {
 public:
  static constexpr std::array<double, 12> kBoundsSeconds{0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                         0.5,   1.0,  2.5,   5.0,  10.0, 30.0};
  // Negative durations (a clock step) count as zero.
  void Observe(double seconds);
  // counts()[i]: observations in (bound[i-1], bound[i]]; the last entry: above every bound.
  const std::array<uint64_t, kBoundsSeconds.size() + 1>& counts() const { return counts_; }
  uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_; }

 private:
  std::array<uint64_t, kBoundsSeconds.size() + 1> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace nlb
