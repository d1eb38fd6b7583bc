#include "common/loop_lag.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace nlb {

void LoopLag::Record(Duration lag) {
  if (lag.count() < 0) lag = Duration(0);
  samples_[count_ % kSamples] = lag;
  ++count_;
  max_ = std::max(max_, lag);
}

LoopLag::Duration LoopLag::Quantile(double q) const {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(count_, kSamples));
  if (n == 0) return Duration(0);
  std::vector<Duration> sorted(samples_.begin(), samples_.begin() + static_cast<ptrdiff_t>(n));
  std::sort(sorted.begin(), sorted.end());
  const double rank = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(n));
  const size_t at = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(at, n - 1)];
}

}  // namespace nlb
