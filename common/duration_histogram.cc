#include "common/duration_histogram.h"

namespace nlb {

void DurationHistogram::Observe(double seconds) {
  if (!(seconds > 0)) seconds = 0;
  size_t i = 0;
  while (i < kBoundsSeconds.size() && seconds > kBoundsSeconds[i]) ++i;
  ++counts_[i];
  ++count_;
  sum_ += seconds;
}

}  // namespace nlb
