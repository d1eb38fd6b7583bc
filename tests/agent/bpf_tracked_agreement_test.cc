// The kernel connection table agrees with DecideTracked(): packet sequences (SYN, ACK without a
// SYN, data, FIN, RST) of flows whose bucket is owned, owned and moving, pending, another's and
// moving, or another's, run through the loaded program (BPF_PROG_TEST_RUN) and through
// DescriptorTable + TrackDecision on the same snapshot: verdict, reason, rule, bucket and tc
// action equal for every packet. Then random flows and flags in random moving states, and a
// spoofed SYN flood that must not push established flows out (docs/connection-tracking.md, "The
// kernel table"). Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "tests/agent/bpf_tracked_test_support.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using test::BucketState;
using test::TcpFrame;
using Clock = std::chrono::steady_clock;

constexpr uint8_t kSyn = kTcpSyn;
constexpr uint8_t kAck = kTcpAck;
constexpr uint8_t kData = kTcpAck | 0x08;  // PSH
constexpr uint8_t kFin = kTcpFin | kTcpAck;
constexpr uint8_t kRst = kTcpRst;
constexpr uint8_t kSynAck = kTcpSyn | kTcpAck;

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

// One rule's flow per shard (each sequence publishes a snapshot per step, and every publish waits
// for an RCU grace period: about 10 ms on a loaded machine).
class BpfTrackedSequencesTest : public test::TrackedFixture,
                                public ::testing::WithParamInterface<Flow> {};

TEST_P(BpfTrackedSequencesTest, Sequences) {
  const Flow& flow = GetParam();
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

std::string RuleName(const ::testing::TestParamInfo<Flow>& param) {
  const char* names[] = {"none", "single", "network", "network_v6"};
  return names[param.index];
}

INSTANTIATE_TEST_SUITE_P(Rules, BpfTrackedSequencesTest,
                         ::testing::Values(Flow{kWebNone, kClient, kVip, 80},
                                           Flow{kTlsSingle, kClient, kVip, 443},
                                           Flow{kRangeNetwork, kClient, kVip, 1500},
                                           Flow{kV6Network, kClient6, kVip6, 443}),
                         RuleName);

// Random flows (every rule, both families, UDP too) and flags, under snapshots whose buckets are
// owned, moving and pending at random, changed every few hundred packets.
TEST_F(BpfTrackedAgreementTest, RandomFlowsInRandomMovingStates) {
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
  std::printf("tracked agreement: %d packets, %d tracked_connection, %d moving_others_connection\n",
              kPackets, reasons[static_cast<size_t>(DecisionReason::kTrackedConnection)],
              reasons[static_cast<size_t>(DecisionReason::kMovingOthersConnection)]);
}

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
