// The kernel connection table agrees with DecideTracked() on random traffic: random flows (every
// rule, both families, TCP and UDP) with random flags, under snapshots whose owners, moving and
// pending buckets change at random, on the tc program and on the XDP one (each with its own
// connection table). Verdict, reason, rule, bucket and action equal for every packet, and the
// per-CPU counters count each by its reason. The named sequences are in
// bpf_tracked_agreement_test.cc. Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <random>

#include "tests/agent/bpf_tracked_test_support.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using test::TcpFrame;

using namespace test::tcp_flags;  // NOLINT(google-build-using-namespace)

class BpfTrackedRandomTest : public test::TrackedFixture,
                             public ::testing::WithParamInterface<test::Hook> {
 protected:
  test::Hook TestHook() const override { return GetParam(); }
};

// Random flows (every rule, both families, UDP too) and flags, under snapshots whose buckets are
// owned, moving and pending at random, changed every few hundred packets.
TEST_P(BpfTrackedRandomTest, RandomFlowsInRandomMovingStates) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kPackets = 15000;
#else
  constexpr int kPackets = 60000;
#endif
  std::mt19937 rng(20261207);
  struct Target {
    int16_t rule;
    IpAddress vip;
    uint16_t first_port, last_port;
    bool udp;
  };
  const std::vector<Target> targets = {
      {kWebNone, kVip, 80, 80, false},          {kTlsSingle, kVip, 443, 443, false},
      {kRangeNetwork, kVip, 1000, 1999, false}, {kRangeNetwork, kVip, 1000, 1999, true},
      {kV6Network, kVip6, 443, 443, false},     {kAllDnsNone, kVip2, 53, 53, true}};
  struct RandomFlow {
    IpAddress client, vip;
    uint16_t client_port, vip_port;
    bool udp;
  };
  std::vector<RandomFlow> flows;
  for (int i = 0; i < 3000; ++i) {
    const Target& t = targets[rng() % targets.size()];
    const bool v6 = t.vip.is_v6();
    // Few client addresses, so that affinity single and network share buckets between flows.
    const uint32_t host = rng() % 64;
    const IpAddress client =
        v6 ? test::Ip("2001:2::" + std::to_string(1 + host % 4) + ":" + std::to_string(host))
           : test::Ip("198.18." + std::to_string(1 + host % 4) + "." + std::to_string(host + 1));
    flows.push_back({client, t.vip, static_cast<uint16_t>(1024 + rng() % 60000),
                     static_cast<uint16_t>(t.first_port + rng() % (t.last_port - t.first_port + 1)),
                     t.udp});
  }
  const std::array<uint8_t, 8> flag_choices = {kSyn, kSyn, kAck, kData, kData, kFin, kRst, kSynAck};
  std::array<int, static_cast<size_t>(DecisionReason::kCount)> reasons{};
  const Result<agent::BpfPlane::Counters> before = plane_->ReadCounters();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  MapSnapshot s;
  for (int i = 0; i < kPackets; ++i) {
    if (i % 500 == 0) {
      s = Snapshot(test::kTrackedLocal);
      s.generation = static_cast<uint64_t>(i + 1);
      for (RuleMap& map : s.rules) {
        if (map.bucket_owner.empty()) continue;
        auto moving = std::make_shared<BucketSet>();
        auto pending = std::make_shared<BucketSet>();
        for (uint32_t b = 0; b < kBucketCount; ++b) {
          map.bucket_owner[b] = static_cast<uint16_t>(1 + rng() % 3);
          if (rng() % 10 < 5) moving->Add(b);
          if (map.bucket_owner[b] == test::kTrackedLocal && moving->Contains(b) && rng() % 4 == 0) {
            pending->Add(b);
          }
        }
        map.moving = moving;
        map.pending = pending;
      }
      Install(s);
    }
    const RandomFlow& f = flows[rng() % flows.size()];
    const std::vector<uint8_t> frame = f.udp ? Udp(f.client, f.vip, f.client_port, f.vip_port)
                                             : TcpFrame(f.client, f.vip, f.client_port, f.vip_port,
                                                        flag_choices[rng() % flag_choices.size()]);
    Decision reference;
    ASSERT_TRUE(Agrees(frame, s, "random packet " + std::to_string(i), &reference));
    ++reasons[static_cast<size_t>(reference.reason)];
  }
  // The per-CPU counters count every packet by the reason it got, the two tracked ones included.
  const Result<agent::BpfPlane::Counters> after = plane_->ReadCounters();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  for (size_t r = 0; r < reasons.size(); ++r) {
    EXPECT_EQ(after->by_reason[r].packets - before->by_reason[r].packets,
              static_cast<uint64_t>(reasons[r]))
        << DecisionReasonName(static_cast<DecisionReason>(r));
  }
  // The run must reach every tracked outcome, or it proves little.
  EXPECT_GT(reasons[static_cast<size_t>(DecisionReason::kTrackedConnection)], kPackets / 100);
  EXPECT_GT(reasons[static_cast<size_t>(DecisionReason::kMovingOthersConnection)], kPackets / 100);
  EXPECT_GT(reasons[static_cast<size_t>(DecisionReason::kOwnedBucket)], kPackets / 100);
  std::printf(
      "tracked agreement (%s): %d packets, %d tracked_connection, %d moving_others_connection\n",
      test::HookName(GetParam()).c_str(), kPackets,
      reasons[static_cast<size_t>(DecisionReason::kTrackedConnection)],
      reasons[static_cast<size_t>(DecisionReason::kMovingOthersConnection)]);
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfTrackedRandomTest,
                         ::testing::Values(test::Hook::kTc, test::Hook::kXdp), test::HookParamName);

}  // namespace
}  // namespace nlb
