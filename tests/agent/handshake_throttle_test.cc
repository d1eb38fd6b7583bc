// HandshakeThrottle on simulated time: free failures, doubling waits with a ceiling, forgetting,
// and the bound on remembered addresses.
#include "agent/handshake_throttle.h"

#include <gtest/gtest.h>

#include <vector>

namespace nlb::agent {
namespace {

using std::chrono::seconds;
using Clock = HandshakeThrottle::Clock;

IpAddress Address(uint8_t last) {
  const uint8_t bytes[4] = {198, 18, 7, last};
  return IpAddress::V4(bytes);
}

TEST(HandshakeThrottleTest, WaitGrowsWithFailures) {
  HandshakeThrottle::Policy policy;
  policy.free_failures = 2;
  policy.first_delay = seconds(1);
  policy.max_delay = seconds(8);
  struct Step {
    int failures_so_far;
    Clock::duration wait_right_after;
  };
  // After failure n (at time t), the wait measured at t.
  const std::vector<Step> steps = {
      {1, seconds(0)}, {2, seconds(0)}, {3, seconds(1)}, {4, seconds(2)},
      {5, seconds(4)}, {6, seconds(8)}, {7, seconds(8)}, {8, seconds(8)},
  };
  HandshakeThrottle throttle(policy);
  const IpAddress a = Address(1);
  Clock::time_point now{};
  for (const Step& s : steps) {
    now += seconds(100);  // long after the previous wait, well before forget_after (10 min)
    throttle.RecordFailure(a, now);
    EXPECT_EQ(throttle.Wait(a, now), s.wait_right_after) << "after " << s.failures_so_far;
    EXPECT_EQ(throttle.Wait(a, now + s.wait_right_after), Clock::duration::zero());
  }
  EXPECT_EQ(throttle.Wait(Address(2), now), Clock::duration::zero()) << "others unaffected";
}

TEST(HandshakeThrottleTest, SuccessAndTimeForget) {
  HandshakeThrottle::Policy policy;
  policy.free_failures = 0;
  policy.forget_after = seconds(600);
  HandshakeThrottle throttle(policy);
  const IpAddress a = Address(1);
  Clock::time_point now{};
  for (int i = 0; i < 5; ++i) throttle.RecordFailure(a, now);
  EXPECT_EQ(throttle.Wait(a, now), seconds(16));
  throttle.RecordSuccess(a);
  EXPECT_EQ(throttle.Wait(a, now), Clock::duration::zero());
  EXPECT_EQ(throttle.tracked_addresses(), 0u);

  for (int i = 0; i < 5; ++i) throttle.RecordFailure(a, now);
  now += seconds(600);
  throttle.RecordFailure(a, now);  // the old streak is forgotten: this is failure 1 again
  EXPECT_EQ(throttle.Wait(a, now), seconds(1));
}

TEST(HandshakeThrottleTest, RemembersAtMostMaxAddresses) {
  HandshakeThrottle::Policy policy;
  policy.free_failures = 0;
  policy.max_addresses = 3;
  policy.first_delay = seconds(60);  // longer than the test's clock runs
  HandshakeThrottle throttle(policy);
  Clock::time_point now{};
  for (uint8_t i = 1; i <= 10; ++i) {
    now += seconds(1);
    throttle.RecordFailure(Address(i), now);
    EXPECT_LE(throttle.tracked_addresses(), 3u);
  }
  // The most recent failures are the ones kept.
  EXPECT_GT(throttle.Wait(Address(10), now), Clock::duration::zero());
  EXPECT_GT(throttle.Wait(Address(8), now), Clock::duration::zero());
  EXPECT_EQ(throttle.Wait(Address(1), now), Clock::duration::zero());
}

}  // namespace
}  // namespace nlb::agent
