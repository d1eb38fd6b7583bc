// The kernel connection table agrees with DecideTracked(): packet sequences (SYN, ACK without a
// SYN, data, FIN, RST) of flows whose bucket is owned, owned and moving, pending, another's and
// moving, or another's, run through the loaded program (BPF_PROG_TEST_RUN) and through
// DescriptorTable + TrackDecision on the same snapshot: verdict, reason, rule, bucket and action
// (XDP: and the frame it leaves) equal for every packet, on the tc program and on the XDP one.
// Random flows are in bpf_tracked_random_test.cc, the SYN flood in bpf_syn_flood_test.cc
// (docs/connection-tracking.md, "The kernel table"). Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <cstdio>
#include <tuple>

#include "tests/agent/bpf_tracked_test_support.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using test::BucketState;
using test::TcpFrame;
using Clock = std::chrono::steady_clock;

using namespace test::tcp_flags;  // NOLINT(google-build-using-namespace)

constexpr Outcome kTracked{Verdict::kAccept, DecisionReason::kTrackedConnection};
constexpr Outcome kMovingOthers{Verdict::kDrop, DecisionReason::kMovingOthersConnection};

// Bucket states, short for the table.
constexpr BucketState kMine = BucketState::kOwned;
constexpr BucketState kMineMoving = BucketState::kOwnedMoving;
constexpr BucketState kMinePending = BucketState::kOwnedPending;
constexpr BucketState kTheirsMoving = BucketState::kOthersMoving;
constexpr BucketState kTheirs = BucketState::kOthers;

struct Step {
  BucketState state;
  uint8_t flags;
  Outcome expect;  // what DecideTracked says (pinned here, so the table can fail on its own)
};

struct Sequence {
  std::string description;
  std::vector<Step> steps;
};

std::vector<Sequence> Sequences() {
  return {
      {"handshake, data and close in an owned bucket",
       {{kMine, kSyn, kOwned},
        {kMine, kAck, kOwned},
        {kMine, kData, kOwned},
        {kMine, kFin, kOwned},
        {kMine, kAck, kOwned}}},
      {"an established flow whose bucket moves away is served until the move ends",
       {{kMine, kSyn, kOwned},
        {kMine, kAck, kOwned},
        {kTheirsMoving, kData, kTracked},
        {kTheirsMoving, kFin, kTracked},
        {kTheirsMoving, kAck, kTracked},
        {kTheirs, kData, kOthersBucket}}},
      {"a half-open flow is tracked: its first ACK after the move promotes it",
       {{kMine, kSyn, kOwned}, {kTheirsMoving, kAck, kTracked}, {kTheirsMoving, kData, kTracked}}},
      {"an ACK without a SYN in an owned moving bucket is another host's connection",
       {{kMineMoving, kAck, kMovingOthers},
        {kMineMoving, kData, kMovingOthers},
        {kMine, kData, kOwned},
        {kMineMoving, kData, kMovingOthers}}},
      {"a new connection in an owned moving bucket",
       {{kMineMoving, kSyn, kOwned}, {kMineMoving, kAck, kOwned}, {kMineMoving, kData, kOwned}}},
      {"a SYN while pending is dropped and leaves nothing tracked",
       {{kMinePending, kSyn, kMovingOthers},
        {kMineMoving, kAck, kMovingOthers},
        {kMineMoving, kSyn, kOwned},
        {kMineMoving, kAck, kOwned}}},
      {"a SYN while pending forgets a tracked flow",
       {{kMine, kSyn, kOwned},
        {kMine, kAck, kOwned},
        {kMinePending, kSyn, kMovingOthers},
        {kMineMoving, kData, kMovingOthers}}},
      {"a SYN in another's moving bucket forgets the flow",
       {{kMine, kSyn, kOwned},
        {kMine, kAck, kOwned},
        {kTheirsMoving, kData, kTracked},
        {kTheirsMoving, kSyn, kOthersBucket},
        {kTheirsMoving, kData, kOthersBucket}}},
      {"a half-open flow forgotten by another SYN in another's moving bucket",
       {{kMine, kSyn, kOwned},
        {kTheirsMoving, kSyn, kOthersBucket},
        {kTheirsMoving, kAck, kOthersBucket}}},
      {"a RST right after the SYN keeps the flow tracked while it closes",
       {{kMine, kSyn, kOwned},
        {kTheirsMoving, kRst, kTracked},
        {kTheirsMoving, kAck, kTracked},
        {kTheirsMoving, kData, kTracked}}},
      {"FIN marks closing, a new SYN reopens",
       {{kMine, kSyn, kOwned},
        {kMine, kAck, kOwned},
        {kMine, kFin, kOwned},
        {kMineMoving, kSyn, kOwned},
        {kMineMoving, kData, kOwned},
        {kTheirsMoving, kData, kTracked}}},
      {"untracked packets in another's moving bucket stay dropped",
       {{kTheirsMoving, kAck, kOthersBucket},
        {kTheirsMoving, kData, kOthersBucket},
        {kTheirsMoving, kSyn, kOthersBucket},
        {kTheirsMoving, kRst, kOthersBucket}}},
      {"SYN-ACK from a client is not a SYN",
       {{kMineMoving, kSynAck, kMovingOthers},
        {kMine, kSynAck, kOwned},
        {kMineMoving, kSynAck, kMovingOthers}}},
      {"a retransmitted SYN of an established flow keeps it",
       {{kMine, kSyn, kOwned},
        {kMine, kAck, kOwned},
        {kMine, kSyn, kOwned},
        {kTheirsMoving, kData, kTracked}}},
      {"a bucket that stops moving drops the old owner's packets",
       {{kMine, kSyn, kOwned},
        {kMine, kAck, kOwned},
        {kTheirs, kData, kOthersBucket},
        {kTheirsMoving, kData, kTracked}}},
  };
}

// The flow of each rule a sequence runs on: every affinity, both families.
struct Flow {
  int16_t rule;
  IpAddress client;
  IpAddress vip;
  uint16_t vip_port;
};
void PrintTo(const Flow& f, std::ostream* os) {
  *os << "rule " << f.rule << " port " << f.vip_port;
}

class BpfTrackedAgreementTest : public test::TrackedFixture {};

// One rule's flow on one hook per gtest case (each sequence publishes a snapshot per step, and
// every publish waits for an RCU grace period: about 10 ms on a loaded machine).
class BpfTrackedSequencesTest : public test::TrackedFixture,
                                public ::testing::WithParamInterface<std::tuple<Flow, test::Hook>> {
 protected:
  test::Hook TestHook() const override { return std::get<1>(GetParam()); }
};

TEST_P(BpfTrackedSequencesTest, Sequences) {
  const Flow& flow = std::get<0>(GetParam());
  uint64_t generation = 1;
  int packets = 0;
  uint16_t port = 30000;
  for (const Sequence& sequence : Sequences()) {
    Reset();  // every sequence starts with nothing tracked
    ++port;
    ParsedPacket packet;
    const MapSnapshot base = Snapshot(test::kTrackedLocal);
    const uint32_t bucket =
        Decide(TcpFrame(flow.client, flow.vip, port, flow.vip_port, kAck), base, &packet).bucket;
    for (size_t i = 0; i < sequence.steps.size(); ++i) {
      const Step& step = sequence.steps[i];
      const MapSnapshot s = test::StateSnapshot(flow.rule, bucket, step.state, ++generation);
      Install(s);
      const std::string what = sequence.description + ", rule " + std::to_string(flow.rule) +
                               ", step " + std::to_string(i + 1);
      Decision reference;
      EXPECT_TRUE(Agrees(TcpFrame(flow.client, flow.vip, port, flow.vip_port, step.flags), s, what,
                         &reference));
      EXPECT_EQ(reference.verdict, step.expect.verdict) << what;
      EXPECT_EQ(reference.reason, step.expect.reason)
          << what << ": " << DecisionReasonName(reference.reason);
      ++packets;
    }
  }
  EXPECT_GT(packets, 50);
}

const std::vector<Flow> kFlows = {
    Flow{kWebNone, kClient, kVip, 80}, Flow{kTlsSingle, kClient, kVip, 443},
    Flow{kRangeNetwork, kClient, kVip, 1500}, Flow{kV6Network, kClient6, kVip6, 443}};

// "none_tc", "network_v6_xdp": the rule's affinity (and family), then the hook.
std::string RuleAndHookName(const ::testing::TestParamInfo<std::tuple<Flow, test::Hook>>& param) {
  const char* names[] = {"none", "single", "network", "network_v6"};
  const Flow& flow = std::get<0>(param.param);
  size_t i = 0;  // each flow has a rule of its own
  while (i + 1 < kFlows.size() && kFlows[i].rule != flow.rule) ++i;
  return std::string(names[i]) + "_" + test::HookName(std::get<1>(param.param));
}

INSTANTIATE_TEST_SUITE_P(Rules, BpfTrackedSequencesTest,
                         ::testing::Combine(::testing::ValuesIn(kFlows),
                                            ::testing::Values(test::Hook::kTc, test::Hook::kXdp)),
                         RuleAndHookName);

// What tracking costs per packet (BPF_PROG_TEST_RUN, repeated): printed for
// docs/bpf-data-plane.md.
TEST_F(BpfTrackedAgreementTest, Measurements) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint32_t kRepeat = 50000;
#else
  constexpr uint32_t kRepeat = 500000;
#endif
  MapSnapshot s = Snapshot(test::kTrackedLocal);
  ParsedPacket packet;
  uint16_t port = 20000;
  while (Decide(TcpFrame(kClient, kVip, port, 80, kAck), s, &packet).verdict != Verdict::kAccept) {
    ++port;
  }
  uint16_t dns = 20000;
  while (Decide(Udp(kClient, kVip2, dns, 53), s, &packet).verdict != Verdict::kAccept) ++dns;
  Install(s);
  const auto ns = [&](const std::vector<uint8_t>& frame) {
    uint32_t duration = 0;
    EXPECT_GE(test::RunProgram(plane_->program_fd(), frame, kRepeat, &duration).action, 0);
    return duration;
  };
  const uint32_t udp = ns(Udp(kClient, kVip2, dns, 53));
  const uint32_t untracked = ns(TcpFrame(kClient, kVip, port, 80, kData));
  EXPECT_EQ(test::RunProgram(plane_->program_fd(), TcpFrame(kClient, kVip, port, 80, kSyn))
                .decision.reason,
            DecisionReason::kOwnedBucket);
  const uint32_t tracked = ns(TcpFrame(kClient, kVip, port, 80, kData));  // promotes, then hits
  const uint32_t bucket = Decide(TcpFrame(kClient, kVip, port, 80, kAck), s, &packet).bucket;
  Install(test::StateSnapshot(kWebNone, bucket, BucketState::kOthersMoving, 2));
  const uint32_t held = ns(TcpFrame(kClient, kVip, port, 80, kData));
  std::printf(
      "per packet: UDP (not tracked) %u ns, TCP owned untracked %u ns, TCP owned tracked "
      "%u ns, TCP tracked in another's moving bucket %u ns\n",
      udp, untracked, tracked, held);
}

}  // namespace
}  // namespace nlb
