#include "agent/capture_pacing.h"

#include <algorithm>

namespace nlb::agent {

std::optional<std::chrono::microseconds> CapturePacing::After(const CaptureRound& round) {
  if (round.frames >= kBusyFrames) {
    quiet_rounds_ = 0;
    return kBusy;
  }
  if (round.frames > 0) {  // their delivery is due: poll() wakes at the next frame
    quiet_rounds_ = kQuietRounds;
    return std::nullopt;
  }
  quiet_rounds_ = std::min(quiet_rounds_ + 1, kQuietRounds);
  if (quiet_rounds_ >= kQuietRounds) return std::nullopt;
  return kBusy;
}

}  // namespace nlb::agent
