// The BPF data plane agrees with Decide(): every case of the decision tables run through the
// loaded tc program, and again through the XDP program, with BPF_PROG_TEST_RUN, on every host's
// map, must give Decide()'s verdict, reason, parse verdict, rule and bucket, and the tc or XDP
// action that follows from them (XDP: and the frame it leaves; docs/bpf-data-plane.md); so must the
// states the tables leave out, and the counters must count what Decide() says. Also measures what
// issue 11 asks (program size, map switch time, ns per packet) and prints it. The million random
// frames are bpf_random_agreement_test.cc, the pcap replay bpf_replay_test.cc. Needs root and a
// kernel with BPF; skips with the reason otherwise.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/bpf_plane.h"
#include "common/decision.h"
#include "tests/agent/bpf_plane_fixture.h"
#include "tests/support/decision_table.h"
#include "tests/support/random_frames.h"

namespace nlb {
namespace {

using agent::BpfPlane;
using test::KernelDecision;
using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

class BpfAgreementTest : public test::BpfPlaneFixture,
                         public ::testing::WithParamInterface<test::Hook> {
 protected:
  test::Hook TestHook() const override { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Hooks, BpfAgreementTest,
                         ::testing::Values(test::Hook::kTc, test::Hook::kXdp), test::HookParamName);

TEST_P(BpfAgreementTest, DecisionTables) {
  std::vector<Case> cases = TableCases();
  for (Case& c : FragmentCases()) cases.push_back(std::move(c));
  int frames = 0;
  for (uint16_t host = 1; host <= kHosts; ++host) {
    const MapSnapshot s = Snapshot(host);
    Install(s);
    for (const Case& c : cases) {
      if (c.frame.size() < 14) continue;  // BPF_PROG_TEST_RUN needs an Ethernet header
      EXPECT_TRUE(Agrees(c.frame, s, c.description + " on host " + std::to_string(host)));
      ++frames;
    }
  }
  EXPECT_GT(frames, 3 * 30);
}

// The states the table does not cover: not serving, an expired lease, a rule without owners, a
// host without an id.
TEST_P(BpfAgreementTest, ServingLeaseAndUnassignedOwners) {
  test::RandomFrames frames(5, {kVip, kVip2, kVip6}, {80, 443, 1500, 25, 23, 8080, 53, 9999});
  MapSnapshot stopped = Snapshot(1);
  stopped.serving = false;
  MapSnapshot no_owners = Snapshot(2);
  for (RuleMap& rule : no_owners.rules) rule.bucket_owner.clear();
  MapSnapshot no_id = Snapshot(kNoHost);
  MapSnapshot unleased = Snapshot(3);
  Install(stopped);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(Agrees(frames.Next(), stopped, "stopped"));
  Install(no_owners);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(Agrees(frames.Next(), no_owners, "no owners"));
  Install(no_id);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(Agrees(frames.Next(), no_id, "no id"));
  // An expired lease is what Decide() calls not serving.
  Install(unleased, std::chrono::nanoseconds(0));
  unleased.serving = false;
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(Agrees(frames.Next(), unleased, "lease expired"));
}

// Every run is counted once by its reason (malformed frames also by parse verdict), bytes
// included; and Publish flips the half the program reads.
TEST_P(BpfAgreementTest, CountersAndHalves) {
  const uint32_t half = plane_->active_half();
  const MapSnapshot s = Snapshot(2);
  Install(s);
  EXPECT_NE(plane_->active_half(), half);
  const Result<BpfPlane::Counters> before = plane_->ReadCounters();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  std::array<uint64_t, NLB_REASON_COUNT> packets{};
  std::array<uint64_t, NLB_PARSE_COUNT> malformed{};
  uint64_t bytes = 0;
  test::RandomFrames frames(9, {kVip, kVip2, kVip6}, {80, 443, 1500, 25, 23, 8080, 53});
  for (int i = 0; i < 20000; ++i) {
    const std::vector<uint8_t> frame = frames.Next();
    ParsedPacket packet;
    const Decision d = Decide(frame, s, &packet);
    if (Run(frame).action == -EINVAL) continue;  // refused before the program ran
    ++packets[static_cast<size_t>(d.reason)];
    if (d.reason == DecisionReason::kMalformed) ++malformed[static_cast<size_t>(d.parse)];
    bytes += frame.size();
  }
  const Result<BpfPlane::Counters> after = plane_->ReadCounters();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  uint64_t counted_bytes = 0;
  for (size_t r = 0; r < NLB_REASON_COUNT; ++r) {
    EXPECT_EQ(after->by_reason[r].packets - before->by_reason[r].packets, packets[r])
        << DecisionReasonName(static_cast<DecisionReason>(r));
    counted_bytes += after->by_reason[r].bytes - before->by_reason[r].bytes;
  }
  EXPECT_EQ(counted_bytes, bytes);
  for (size_t v = 0; v < NLB_PARSE_COUNT; ++v) {
    EXPECT_EQ(after->malformed[v] - before->malformed[v], malformed[v])
        << ParseVerdictName(static_cast<ParseVerdict>(v));
  }
  EXPECT_GT(packets[static_cast<size_t>(DecisionReason::kOwnedBucket)], 100u);
  EXPECT_GT(packets[static_cast<size_t>(DecisionReason::kMalformed)], 100u);
}

TEST_P(BpfAgreementTest, Measurements) {
  const Result<BpfPlane::ProgramInfo> info = plane_->Info();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  std::printf("%s program: %u instructions after verification, %u bytes JITed, %u verified\n",
              xdp_ ? "xdp" : "tc", info->xlated_instructions, info->jited_bytes,
              info->verified_instructions);

  // A map switch of one multiple-host rule: write 16384 buckets into the inactive half + flip.
  MapSnapshot one = Snapshot(1);
  one.rules.resize(1);
  constexpr int kSwitches = 200;
  // Each switch apart from the grace period the next one needs (BpfSwitch runs it after the
  // announcement), which is timed on its own.
  Clock::duration switching{};
  Clock::duration grace{};
  for (int i = 0; i < kSwitches; ++i) {
    const Clock::time_point start = Clock::now();
    plane_->AwaitGrace();
    const Clock::time_point graced = Clock::now();
    ASSERT_TRUE(plane_->Publish(one).ok());
    switching += Clock::now() - graced;
    grace += graced - start;
  }
  std::printf("map switch (16384 buckets + flip): %.1f us; grace period after it: %.1f us\n",
              std::chrono::duration<double, std::micro>(switching).count() / kSwitches,
              std::chrono::duration<double, std::micro>(grace).count() / kSwitches);

  const MapSnapshot s = Snapshot(1);
  Install(s);
  const std::vector<uint8_t> tcp = Tcp(kClient, kVip, 40000, 80);
  uint32_t ns = 0;
  const KernelDecision k = Run(tcp, 1000000, &ns);
  ASSERT_NE(k.action, -1);
  std::printf("BPF_PROG_TEST_RUN (%s), TCP to a multiple-host rule: %u ns per packet\n",
              xdp_ ? "xdp" : "tc", ns);

  const Result<BpfPlane::Counters> counters = plane_->ReadCounters();
  ASSERT_TRUE(counters.ok()) << counters.status().ToString();
  uint64_t packets = 0;
  for (const nlb_counter& c : counters->by_reason) packets += c.packets;
  EXPECT_GE(packets, 1000000u) << "the per-CPU counters count every run";
}

}  // namespace
}  // namespace nlb
