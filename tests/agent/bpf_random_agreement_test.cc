// The BPF data plane agrees with Decide() on over a million random frames, on the tc program and
// again on the XDP program: 20 shards per hook (one CTest test each, so that each stays short
// under the sanitizers), each a RandomFrames stream of its own seed (the same for both hooks) run
// on every host's map of the decision tables' cluster. Half the frames are well
// formed, half broken: bytes changed, cut short, trailing bytes, noise, and headers broken on
// purpose (cut inside a header, bad IPv4 header length, bogus IPv6 extension chains, odd fragment
// offsets). Each frame's verdict, reason, parse verdict, rule, bucket and tc action must equal
// Decide()'s (XDP: and the frame it leaves); each shard prints what it ran, by kind and by
// outcome. Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <tuple>

#include "common/decision.h"
#include "tests/agent/bpf_plane_fixture.h"
#include "tests/support/decision_table.h"
#include "tests/support/random_frames.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using test::RandomFrames;
using Clock = std::chrono::steady_clock;

// The same count in every build: the sanitizer build checks memory safety over the whole
// million too. About 0.3 s per shard optimised, 1.1 s under ASan, on an idle machine. CMake
// registers one CTest test per shard (tests/agent/CMakeLists.txt sets the count).
constexpr int kShards = NLB_RANDOM_SHARDS;
constexpr int kFramesPerHost = 17500;
static_assert(kShards * kHosts * kFramesPerHost >= 1000000, "issue 11 asks for a million");

// (hook, shard); named tc_N and xdp_N.
class BpfRandomAgreementTest : public test::BpfPlaneFixture,
                               public ::testing::WithParamInterface<std::tuple<test::Hook, int>> {
 protected:
  test::Hook TestHook() const override { return std::get<0>(GetParam()); }
};

TEST_P(BpfRandomAgreementTest, RandomAndMutatedFrames) {
  const int shard = std::get<1>(GetParam());
  RandomFrames frames(20261207 + static_cast<uint32_t>(shard), {kVip, kVip2, kVip6},
                      {80, 443, 1000, 1500, 1999, 25, 23, 8080, 53, 9999, 22});
  std::array<int, static_cast<size_t>(RandomFrames::Kind::kCount)> kinds{};
  std::array<int, static_cast<size_t>(DecisionReason::kCount)> reasons{};
  std::array<int, static_cast<size_t>(ParseVerdict::kCount)> malformed{};
  int fragments = 0;
  const Clock::time_point start = Clock::now();
  refused_ = 0;
  int total = 0;
  for (uint16_t host = 1; host <= kHosts; ++host) {
    const MapSnapshot s = Snapshot(host);
    Install(s);
    for (int i = 0; i < kFramesPerHost; ++i, ++total) {
      const std::vector<uint8_t> frame = frames.Next();
      ParsedPacket packet;
      const Decision want = Decide(frame, s, &packet);
      ASSERT_TRUE(KernelAgrees(frame, want, packet, s,
                               "shard " + std::to_string(shard) + " frame " +
                                   std::to_string(total) + " (" +
                                   std::string(RandomFrames::KindName(frames.last_kind())) + ")"));
      ++kinds[static_cast<size_t>(frames.last_kind())];
      ++reasons[static_cast<size_t>(want.reason)];
      if (want.reason == DecisionReason::kMalformed) ++malformed[static_cast<size_t>(want.parse)];
      if (packet.is_fragment && want.reason != DecisionReason::kMalformed) ++fragments;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s shard %d: %d frames in %.1f s (%d refused by BPF_PROG_TEST_RUN as too short)\n",
              xdp_ ? "xdp" : "tc", shard, total, seconds, refused_);
  std::string line = "  by kind:";
  for (size_t k = 0; k < kinds.size(); ++k) {
    line += " " + std::string(RandomFrames::KindName(static_cast<RandomFrames::Kind>(k))) + " " +
            std::to_string(kinds[k]);
  }
  std::printf("%s\n  by reason:", line.c_str());
  for (size_t r = 0; r < reasons.size(); ++r) {
    if (reasons[r] != 0) {
      std::printf(" %s %d", DecisionReasonName(static_cast<DecisionReason>(r)).data(), reasons[r]);
    }
  }
  std::printf("\n  malformed by parse verdict:");
  for (size_t v = 0; v < malformed.size(); ++v) {
    if (malformed[v] != 0) {
      std::printf(" %s %d", ParseVerdictName(static_cast<ParseVerdict>(v)).data(), malformed[v]);
    }
  }
  std::printf("\n  fragments (well formed enough to decide): %d\n", fragments);
  RecordProperty("frames", total);

  // The stream must reach what it is for, or the agreement proves little.
  for (size_t k = 0; k < kinds.size(); ++k) {
    EXPECT_GT(kinds[k], total / 100) << RandomFrames::KindName(static_cast<RandomFrames::Kind>(k));
  }
  for (const ParseVerdict v :
       {ParseVerdict::kTruncatedIpv4, ParseVerdict::kBadIpv4HeaderLength,
        ParseVerdict::kBadIpv4TotalLength, ParseVerdict::kTruncatedIpv6,
        ParseVerdict::kBadIpv6PayloadLength, ParseVerdict::kBadIpv6ExtensionHeader,
        ParseVerdict::kTruncatedTcp, ParseVerdict::kTruncatedUdp, ParseVerdict::kTruncatedVlan}) {
    EXPECT_GT(malformed[static_cast<size_t>(v)], 20) << ParseVerdictName(v);
  }
  for (const DecisionReason r : {DecisionReason::kOwnedBucket, DecisionReason::kOtherHostsBucket,
                                 DecisionReason::kSingleHostOwner, DecisionReason::kRuleDisabled,
                                 DecisionReason::kNeighbourRequest, DecisionReason::kForeignVlan,
                                 DecisionReason::kNotForVip}) {
    EXPECT_GT(reasons[static_cast<size_t>(r)], 100) << DecisionReasonName(r);
  }
  EXPECT_GT(fragments, total / 50);
}

INSTANTIATE_TEST_SUITE_P(Shards, BpfRandomAgreementTest,
                         ::testing::Combine(::testing::Values(test::Hook::kTc, test::Hook::kXdp),
                                            ::testing::Range(0, kShards)),
                         [](const ::testing::TestParamInfo<std::tuple<test::Hook, int>>& shard) {
                           return test::HookName(std::get<0>(shard.param)) + "_" +
                                  std::to_string(std::get<1>(shard.param));
                         });

}  // namespace
}  // namespace nlb
