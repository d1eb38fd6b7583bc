#include "common/loop_lag.h"

#include <gtest/gtest.h>

namespace nlb {
namespace {

using us = std::chrono::microseconds;

TEST(LoopLagTest, EmptyIsZero) {
  LoopLag lag;
  EXPECT_EQ(lag.Quantile(0.5), us(0));
  EXPECT_EQ(lag.max(), us(0));
  EXPECT_EQ(lag.count(), 0u);
}

TEST(LoopLagTest, QuantilesByNearestRank) {
  struct Case {
    double q;
    int64_t want;
  } cases[] = {{0.0, 1}, {0.5, 50}, {0.99, 99}, {1.0, 100}};
  LoopLag lag;
  for (int i = 100; i >= 1; --i) lag.Record(us(i));
  for (const Case& c : cases) EXPECT_EQ(lag.Quantile(c.q), us(c.want)) << c.q;
  EXPECT_EQ(lag.max(), us(100));
}

TEST(LoopLagTest, KeepsTheLastSamplesAndTheMaxSinceStart) {
  LoopLag lag;
  lag.Record(us(1'000'000));  // one stall, long ago
  for (size_t i = 0; i < LoopLag::kSamples; ++i) lag.Record(us(10));
  EXPECT_EQ(lag.Quantile(1.0), us(10));
  EXPECT_EQ(lag.max(), us(1'000'000));
  EXPECT_EQ(lag.count(), LoopLag::kSamples + 1);
}

TEST(LoopLagTest, NegativeLagCountsAsZero) {
  LoopLag lag;
  lag.Record(us(-5));
  EXPECT_EQ(lag.Quantile(1.0), us(0));
}

}  // namespace
}  // namespace nlb
