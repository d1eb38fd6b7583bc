// CapturePacing: the data path's wait between capture rounds, case by case (named steps, each
// after the previous ones on one pacing object), and the long observing nap sized to the ring.
#include "agent/capture_pacing.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace nlb::agent {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr uint64_t kRing = 20000;

struct Step {
  std::string description;
  CaptureRound round;
  std::optional<microseconds> wait;  // nullopt: poll()
};

TEST(CapturePacingTest, Table) {
  const std::vector<Step> steps = {
      {"idle host: poll", {0, 0, false, milliseconds(1000)}, std::nullopt},
      {"a request through TUN: poll, its next frame is due at once",
       {3, 3, false, milliseconds(2)},
       std::nullopt},
      {"a burst through TUN: short nap", {200, 200, false, microseconds(300)}, microseconds(100)},
      {"an empty round after it: the same nap",
       {0, 0, false, microseconds(100)},
       microseconds(100)},
      {"the kernel delivers, a few frames observed: long nap, at most 5 ms",
       {10, 0, true, milliseconds(1)},
       microseconds(5000)},
      {"an empty round: the same long nap", {0, 0, true, milliseconds(5)}, microseconds(5000)},
      {"observed 10k frames in 5 ms: a quarter ring (5000) fills in 2.5 ms",
       {10000, 0, true, milliseconds(5)},
       microseconds(2500)},
      {"observed 20k frames in 1 ms: not under 0.5 ms",
       {20000, 0, true, milliseconds(1)},
       microseconds(500)},
      {"the kernel delivers but a frame went through TUN: short nap at a busy rate",
       {100, 1, true, milliseconds(1)},
       microseconds(100)},
      {"... and a slow round that handed frames on: poll",
       {2, 1, true, microseconds(100)},
       std::nullopt},
  };
  CapturePacing pacing(kRing);
  for (const Step& s : steps) {
    EXPECT_EQ(pacing.After(s.round), s.wait) << s.description;
  }
}

TEST(CapturePacingTest, BackToPollAfterQuietRounds) {
  CapturePacing pacing(kRing);
  ASSERT_TRUE(pacing.After({10, 0, true, milliseconds(1)}));
  for (int i = 1; i < CapturePacing::kQuietRounds; ++i) {
    EXPECT_TRUE(pacing.After({0, 0, true, milliseconds(5)})) << "empty round " << i;
  }
  EXPECT_FALSE(pacing.After({0, 0, true, milliseconds(5)})) << "an idle host sleeps in poll()";
  EXPECT_FALSE(pacing.After({0, 0, true, milliseconds(1000)}));
}

TEST(CapturePacingTest, ASmallRingNapsShorter) {
  // 64 KiB slots (GRO on): 512 frames; at 100k frames/s a quarter fills in 1.28 ms.
  CapturePacing pacing(512);
  EXPECT_EQ(pacing.After({500, 0, true, milliseconds(5)}), microseconds(1280));
}

}  // namespace
}  // namespace nlb::agent
