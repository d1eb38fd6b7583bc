// A spoofed SYN flood cannot push real connections out of the kernel connection table: the SYNs
// land in the half-open map, which the LRU churns, while established flows live in their own map
// (docs/connection-tracking.md, "The kernel table"). On the tc program and on the XDP one (each
// with its own connection table). Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "tests/agent/bpf_tracked_test_support.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using test::BucketState;
using test::TcpFrame;

class BpfSynFloodTest : public test::TrackedFixture,
                        public ::testing::WithParamInterface<test::Hook> {
 protected:
  test::Hook TestHook() const override { return GetParam(); }
};

uint32_t BucketOf(uint16_t port, const MapSnapshot& s) {
  ParsedPacket packet;
  return Decide(TcpFrame(kClient, kVip, port, 80, kTcpAck), s, &packet).bucket;
}

// N established flows, then 100,000 SYNs from spoofed sources while their buckets move away: all
// N are still tracked (accepted as tracked_connection), and so is a connection opened after the
// flood. The user-space DescriptorTable with the same room refuses that new connection: the
// flood's SYN-only flows fill it for the idle timeout.
TEST_P(BpfSynFloodTest, SpoofedSynsDoNotPushOutEstablishedFlows) {
  constexpr int kEstablished = 2000;
  constexpr int kFlood = 100000;
  MapSnapshot owned = Snapshot(test::kTrackedLocal);
  owned.generation = 1;
  RuleMap& web = owned.rules[kWebNone];
  std::fill(web.bucket_owner.begin(), web.bucket_owner.end(), test::kTrackedLocal);
  Install(owned);
  DescriptorTable user_space(DescriptorTableOptions{.capacity = kHalfOpenCapacity + kEstablished},
                             std::chrono::steady_clock::now());
  const auto both = [&](const std::vector<uint8_t>& frame, const MapSnapshot& s) {
    ParsedPacket packet;
    (void)DecideTracked(frame, s, user_space, std::chrono::steady_clock::now(), &packet);
    return Run(frame).decision;
  };

  MapSnapshot moved = owned;
  moved.generation = 2;
  std::set<uint32_t> moved_buckets;
  for (int i = 0; i < kEstablished; ++i) {
    const uint16_t port = static_cast<uint16_t>(20000 + i);
    ASSERT_EQ(both(TcpFrame(kClient, kVip, port, 80, kTcpSyn), owned).reason,
              DecisionReason::kOwnedBucket);
    ASSERT_EQ(both(TcpFrame(kClient, kVip, port, 80, kTcpAck), owned).reason,
              DecisionReason::kOwnedBucket);
    const uint32_t bucket = BucketOf(port, owned);
    if (moved_buckets.insert(bucket).second) {
      test::SetState(moved.rules[kWebNone], bucket, BucketState::kOthersMoving);
    }
  }
  Install(moved);

  std::vector<uint8_t> syn = TcpFrame(kClient, kVip, 1, 80, kTcpSyn);
  std::mt19937 rng(7);
  int flood_accepted = 0;
  for (int i = 0; i < kFlood; ++i) {
    const uint32_t r = rng();
    syn[26] = 198;  // source address: 198.18.0.0/15, source port: any
    syn[27] = static_cast<uint8_t>(18 | (r & 1));
    syn[28] = static_cast<uint8_t>(r >> 8);
    syn[29] = static_cast<uint8_t>(r >> 16);
    syn[34] = static_cast<uint8_t>(r >> 24);
    syn[35] = static_cast<uint8_t>(rng());
    if (both(syn, moved).reason == DecisionReason::kOwnedBucket) ++flood_accepted;
  }
  EXPECT_GT(flood_accepted, kFlood / 2);

  int tracked = 0;
  for (int i = 0; i < kEstablished; ++i) {
    const Decision d =
        both(TcpFrame(kClient, kVip, static_cast<uint16_t>(20000 + i), 80, kTcpAck | 0x08), moved);
    if (d.verdict == Verdict::kAccept && d.reason == DecisionReason::kTrackedConnection) ++tracked;
  }
  EXPECT_EQ(tracked, kEstablished);

  // A connection opened after the flood, in a bucket that then moves away too.
  uint16_t fresh = 40000;
  while (moved_buckets.count(BucketOf(fresh, moved)) != 0) ++fresh;
  EXPECT_EQ(both(TcpFrame(kClient, kVip, fresh, 80, kTcpSyn), moved).reason,
            DecisionReason::kOwnedBucket);
  EXPECT_EQ(both(TcpFrame(kClient, kVip, fresh, 80, kTcpAck), moved).reason,
            DecisionReason::kOwnedBucket);
  MapSnapshot later = moved;
  later.generation = 3;
  test::SetState(later.rules[kWebNone], BucketOf(fresh, moved), BucketState::kOthersMoving);
  Install(later);
  EXPECT_EQ(both(TcpFrame(kClient, kVip, fresh, 80, kTcpAck | 0x08), later).reason,
            DecisionReason::kTrackedConnection);
  EXPECT_GT(user_space.counters().table_full.load(), 0u) << "the user-space table had room";
  ParsedPacket packet;
  EXPECT_EQ(DecideTracked(TcpFrame(kClient, kVip, fresh, 80, kTcpAck | 0x08), later, user_space,
                          std::chrono::steady_clock::now(), &packet)
                .reason,
            DecisionReason::kOtherHostsBucket)
      << "the user-space table tracks the new connection after all";

  const Result<agent::BpfSweepResult> swept = flows_->Sweep({});
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  const Result<agent::BpfFlowCounters> counters = flows_->ReadCounters();
  ASSERT_TRUE(counters.ok()) << counters.status().ToString();
  EXPECT_EQ(counters->tracked, static_cast<uint64_t>(kEstablished + 1));
  EXPECT_EQ(counters->evicted_flows, 0u);
  EXPECT_GT(counters->evicted_half_open, static_cast<uint64_t>(flood_accepted - kHalfOpenCapacity));
  EXPECT_LE(counters->half_open, kHalfOpenCapacity);
  std::printf(
      "SYN flood (%s): %d established flows tracked of %d after %d spoofed SYNs (%d accepted); "
      "half-open map %llu of %u, %llu evicted by its LRU; flows evicted %llu; user-space table "
      "refused %llu new flows\n",
      test::HookName(GetParam()).c_str(), tracked, kEstablished, kFlood, flood_accepted,
      static_cast<unsigned long long>(counters->half_open), kHalfOpenCapacity,
      static_cast<unsigned long long>(counters->evicted_half_open),
      static_cast<unsigned long long>(counters->evicted_flows),
      static_cast<unsigned long long>(user_space.counters().table_full.load()));
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfSynFloodTest,
                         ::testing::Values(test::Hook::kTc, test::Hook::kXdp), test::HookParamName);

}  // namespace
}  // namespace nlb
