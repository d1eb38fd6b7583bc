// BpfFlowTable against the real loaded maps: its sweep's per-(rule, bucket) counts equal
// DescriptorTable::Connections for the same packets; expiry on simulated time (a sweep "now"
// in the future) removes what the table's sweep removes, and half-open flows after their own
// timeout; the program never accepts by an expired entry; the keep predicate, recomputed buckets
// and renumbering; and what sweeping costs. Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>

#include "config/cluster_config.h"
#include "tests/agent/bpf_flow_table_fixture.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using agent::BpfFlowCounters;
using agent::BpfSweepOptions;
using test::BpfFlowTableTest;
using test::BucketState;
using test::kSecond;
using test::MonotonicNs;
using test::OpenedFlow;
using test::RunProgram;
using test::TcpFrame;
using Clock = std::chrono::steady_clock;

TEST(BpfFlowTableDefaults, LoadOptionsAreTheConfigDefaults) {
  const agent::BpfPlane::LoadOptions options;
  const ConnectionTrackingConfig config;
  EXPECT_EQ(options.flow_capacity, config.capacity);
  EXPECT_EQ(options.idle_timeout.count(), config.idle_timeout_s);
  EXPECT_EQ(options.close_delay.count(), config.close_delay_s);
}

TEST_F(BpfFlowTableTest, SweepCountsAndExpiryFollowTheDescriptorTable) {
  const MapSnapshot s = Snapshot(test::kTrackedLocal);
  Install(s);
  const std::vector<OpenedFlow> flows = OpenFlows(s, 800);
  const uint64_t now = MonotonicNs();
  const Clock::time_point steady = Clock::now();
  const auto keep_all = [](uint32_t, uint32_t) { return true; };
  EXPECT_EQ(Sweep(now), 0u);
  ExpectSameCounts("now");
  EXPECT_GT(table_->size(), 50u);

  // Past the close delay: both remove the closed flows.
  table_->Sweep(steady + std::chrono::seconds(11), table_->slot_count(), keep_all);
  EXPECT_GT(Sweep(now + 11 * kSecond), 0u);
  ExpectSameCounts("after the close delay");
  BpfFlowCounters c = Counters();
  EXPECT_EQ(c.swept_expired, table_->counters().removed_closed.load());

  // Past the half-open timeout: the kernel forgets flows that never completed their handshake;
  // DescriptorTable keeps a SYN-only flow for the idle timeout (the documented difference).
  uint64_t half_open_owned = 0;
  for (const OpenedFlow& f : flows) {
    if (f.stage != 0) continue;
    ParsedPacket p;
    half_open_owned +=
        Decide(TcpFrame(f.client, f.vip, f.port, f.vip_port, kTcpSyn), s, &p).verdict ==
        Verdict::kAccept;
  }
  EXPECT_GT(half_open_owned, 0u);
  EXPECT_EQ(Sweep(now + 61 * kSecond), half_open_owned);
  c = Counters();
  EXPECT_EQ(c.half_open, 0u);
  EXPECT_EQ(c.tracked + half_open_owned, table_->size());

  // Past the idle timeout: nothing left on either side.
  table_->Sweep(steady + std::chrono::seconds(901), table_->slot_count(), keep_all);
  Sweep(now + 901 * kSecond);
  ExpectSameCounts("after the idle timeout");
  EXPECT_EQ(Counters().tracked, 0u);
  EXPECT_EQ(Counters().evicted_flows, 0u);
  EXPECT_EQ(Counters().evicted_half_open, 0u);
}

// An entry past its timeout is not tracked even before the sweep reaches it: the packet is
// decided as untracked and the entry removed.
TEST_F(BpfFlowTableTest, ProgramIgnoresExpiredEntries) {
  const uint64_t now = MonotonicNs();
  struct Planted {
    uint16_t port;
    bool half_open;
    uint8_t state;
    uint64_t age_ns;
    bool tracked;
  };
  const std::vector<Planted> planted = {{50001, false, NLB_FLOW_OPEN, 901 * kSecond, false},
                                        {50002, false, NLB_FLOW_CLOSING, 11 * kSecond, false},
                                        {50003, true, NLB_FLOW_OPEN, 61 * kSecond, false},
                                        {50004, true, NLB_FLOW_CLOSING, 11 * kSecond, false},
                                        {50005, false, NLB_FLOW_OPEN, 0, true},
                                        {50006, false, NLB_FLOW_CLOSING, 5 * kSecond, true},
                                        {50007, true, NLB_FLOW_OPEN, 30 * kSecond, true}};
  MapSnapshot s = Snapshot(test::kTrackedLocal);
  for (const Planted& p : planted) {
    ParsedPacket packet;
    const uint32_t bucket = Decide(TcpFrame(kClient, kVip, p.port, 80, kTcpAck), s, &packet).bucket;
    nlb_flow_id id{};
    std::memcpy(id.client, kClient.bytes.data(), 16);
    std::memcpy(id.vip, kVip.bytes.data(), 16);
    id.client_port = p.port;
    id.vip_port = 80;
    id.rule = kWebNone;
    id.family = NLB_FAMILY_V4;
    const nlb_flow value{now - p.age_ns, static_cast<uint16_t>(bucket), p.state, {}};
    ASSERT_EQ(bpf_map_update_elem(p.half_open ? plane_->half_open_fd() : plane_->flows_fd(), &id,
                                  &value, BPF_ANY),
              0);
    test::SetState(s.rules[kWebNone], bucket, BucketState::kOthersMoving);
  }
  Install(s);
  const uint64_t seen_before = Counters().program[NLB_FLOW_EXPIRED_SEEN];
  for (const Planted& p : planted) {
    const test::KernelDecision k =
        RunProgram(plane_->program_fd(), TcpFrame(kClient, kVip, p.port, 80, kTcpAck | 0x08));
    EXPECT_EQ(k.decision.reason,
              p.tracked ? DecisionReason::kTrackedConnection : DecisionReason::kOtherHostsBucket)
        << "port " << p.port;
  }
  EXPECT_EQ(Counters().program[NLB_FLOW_EXPIRED_SEEN] - seen_before, 4u);
}

// The keep predicate removes flows of buckets this host neither owns nor serves; rule_keys count
// flows by the buckets of a new affinity, as DescriptorTable::SetClientKey does.
TEST_F(BpfFlowTableTest, KeepPredicateAndRecomputedBuckets) {
  const MapSnapshot s = Snapshot(test::kTrackedLocal);
  Install(s);
  (void)OpenFlows(s, 400);
  const uint64_t tls = table_->RuleConnections(kTlsSingle);
  ASSERT_GT(tls, 0u);
  BpfSweepOptions options;
  options.keep = [](uint32_t rule, uint32_t) { return rule != kTlsSingle; };
  EXPECT_EQ(Sweep(MonotonicNs(), options), tls);
  EXPECT_EQ(Counters().swept_not_kept, tls);
  EXPECT_EQ(flows_->RuleConnections(kTlsSingle), 0u);

  std::vector<ClientKey> keys(s.rules.size());
  for (size_t r = 0; r < s.rules.size(); ++r) {
    keys[r] = {s.rules[r].rule.affinity, s.rules[r].rule.ipv6_network_prefix};
  }
  table_->SetClientKey(kWebNone, keys[kWebNone]);
  keys[kWebNone] = {Affinity::kSingle, kDefaultIpv6NetworkPrefix};
  table_->SetClientKey(kWebNone, keys[kWebNone]);  // recomputes the web flows' buckets
  options = {};
  options.rule_keys = keys;
  options.rule_epoch = 7;
  options.generation = 9;
  Sweep(MonotonicNs(), options);
  EXPECT_EQ(flows_->counts_epoch(), 7u);
  EXPECT_EQ(flows_->counts_generation(), 9u);
  for (uint32_t b = 0; b < kBucketCount; ++b) {
    ASSERT_EQ(flows_->Connections(kWebNone, b), table_->Connections(kWebNone, b)) << b;
  }
}

}  // namespace
}  // namespace nlb
