// CapturePacing: the data path's wait between capture rounds, case by case (named steps, each
// after the previous ones on one pacing object).
#include "agent/capture_pacing.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace nlb::agent {
namespace {

using std::chrono::microseconds;

struct Step {
  std::string description;
  CaptureRound round;
  std::optional<microseconds> wait;  // nullopt: poll()
};

TEST(CapturePacingTest, Table) {
  const std::vector<Step> steps = {
      {"idle host: poll", {0}, std::nullopt},
      {"a request: poll, its next frame is due at once", {3}, std::nullopt},
      {"a burst: short nap", {200}, microseconds(100)},
      {"an empty round after it: the same nap", {0}, microseconds(100)},
      {"exactly kBusyFrames: a nap", {CapturePacing::kBusyFrames}, microseconds(100)},
      {"one fewer: poll", {CapturePacing::kBusyFrames - 1}, std::nullopt},
  };
  CapturePacing pacing;
  for (const Step& s : steps) {
    EXPECT_EQ(pacing.After(s.round), s.wait) << s.description;
  }
}

TEST(CapturePacingTest, BackToPollAfterQuietRounds) {
  CapturePacing pacing;
  ASSERT_TRUE(pacing.After({100}));
  for (int i = 1; i < CapturePacing::kQuietRounds; ++i) {
    EXPECT_TRUE(pacing.After({0})) << "empty round " << i;
  }
  EXPECT_FALSE(pacing.After({0})) << "an idle host sleeps in poll()";
  EXPECT_FALSE(pacing.After({0}));
}

}  // namespace
}  // namespace nlb::agent
