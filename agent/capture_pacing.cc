#include "agent/capture_pacing.h"

#include <algorithm>

namespace nlb::agent {

std::optional<std::chrono::microseconds> CapturePacing::After(const CaptureRound& round) {
  if (round.frames > 0 && round.kernel_delivers && round.handed_on == 0) {
    // Frames per microsecond at the last round's rate; a quarter of the ring at that rate.
    const double us = std::max<double>(
        1.0, std::chrono::duration<double, std::micro>(round.since_last_round).count());
    const double rate = static_cast<double>(round.frames) / us;
    const auto fill = std::chrono::microseconds(
        static_cast<int64_t>(static_cast<double>(ring_frames_) / 4 / rate));
    last_nap_ = std::clamp<std::chrono::microseconds>(fill, kObservingMin, kObservingMax);
    quiet_rounds_ = 0;
    return last_nap_;
  }
  if (round.frames >= kBusyFrames) {
    last_nap_ = kBusy;
    quiet_rounds_ = 0;
    return last_nap_;
  }
  if (round.frames > 0) {  // their delivery is due: poll() wakes at the next frame
    quiet_rounds_ = kQuietRounds;
    return std::nullopt;
  }
  quiet_rounds_ = std::min(quiet_rounds_ + 1, kQuietRounds);
  if (quiet_rounds_ >= kQuietRounds) return std::nullopt;
  return last_nap_;
}

}  // namespace nlb::agent
