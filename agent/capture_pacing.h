// CapturePacing: how long the data path thread waits between rounds of reading the capture ring.
// Sleeping in poll() on the capture socket makes the kernel wake the thread for nearly every
// frame, and on these machines a wake-up (an inter-processor interrupt; in a VM, a VM exit) costs
// the receiving core more than the frame. So while frames keep coming the thread naps instead:
//  - when the last round saw at least kBusyFrames, it naps kBusy (a high rate: the ring holds
//    the frames of a nap, and a frame waits at most that long);
//  - when it saw fewer (request/response traffic), it goes back to poll() at once: every frame
//    the capture accepts is delivered through the TUN device, so a nap would delay it;
//  - after kQuietRounds naps that found nothing, it goes back to poll(): an idle host sleeps.
// Pure; the data path thread only.
#pragma once

#include <chrono>
#include <optional>

namespace nlb::agent {

struct CaptureRound {
  int frames = 0;  // frames the round read from the ring
};

class CapturePacing {
 public:
  static constexpr auto kBusy = std::chrono::microseconds(100);
  static constexpr int kBusyFrames = 16;
  static constexpr int kQuietRounds = 20;

  // The wait before the next round: a nap, or nullopt for poll() (until a frame comes).
  std::optional<std::chrono::microseconds> After(const CaptureRound& round);

 private:
  int quiet_rounds_ = kQuietRounds;
};

}  // namespace nlb::agent
