// CapturePacing: how long the data path thread waits between rounds of reading the capture ring.
// Sleeping in poll() on the capture socket makes the kernel wake the thread for nearly every
// frame, and on these machines a wake-up (an inter-processor interrupt; in a VM, a VM exit) costs
// the receiving core more than the frame. So while frames keep coming the thread naps instead:
//  - when the last round only observed (the kernel fast path delivered everything it accepted,
//    nothing went through the TUN device or the neighbour responder), nothing waits for the data
//    path but its counters and connection tracking: it naps long, until the ring would be a
//    quarter full at the last round's rate, at most kObservingMax (docs/data-path.md);
//  - when it delivered and saw at least kBusyFrames, it naps kBusy (a high rate: the ring holds
//    the frames of a nap, and a frame waits at most that long);
//  - when it delivered fewer (request/response traffic), it goes back to poll() at once;
//  - after kQuietRounds naps that found nothing, it goes back to poll(): an idle host sleeps.
// Pure; the data path thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace nlb::agent {

struct CaptureRound {
  int frames = 0;                // frames the round read from the ring
  uint64_t handed_on = 0;        // of them, delivered through TUN or answered (waited for us)
  bool kernel_delivers = false;  // the kernel fast path delivers part of the map in force
  std::chrono::nanoseconds since_last_round{0};  // from the previous round's start to this one's
};

class CapturePacing {
 public:
  static constexpr auto kBusy = std::chrono::microseconds(100);
  static constexpr auto kObservingMin = std::chrono::microseconds(500);
  static constexpr auto kObservingMax = std::chrono::microseconds(5000);
  static constexpr int kBusyFrames = 16;
  static constexpr int kQuietRounds = 20;

  // ring_frames: about how many frames the capture ring holds (PacketCapture::ring_frames).
  explicit CapturePacing(uint64_t ring_frames) : ring_frames_(ring_frames) {}

  // The wait before the next round: a nap, or nullopt for poll() (until a frame comes).
  std::optional<std::chrono::microseconds> After(const CaptureRound& round);

 private:
  uint64_t ring_frames_;
  int quiet_rounds_ = kQuietRounds;
  std::chrono::microseconds last_nap_{kBusy};
};

}  // namespace nlb::agent
