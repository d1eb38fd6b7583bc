// BpfFlowTable against the real loaded maps: its sweep's per-(rule, bucket) counts equal
// DescriptorTable::Connections for the same packets; expiry on simulated time (a sweep "now"
// in the future) removes what the table's sweep removes, and half-open flows after their own
// timeout; half-open flows stop counting past their hold; the program never accepts by an
// expired entry; the keep predicate, recomputed buckets and renumbering; and what sweeping costs.
// Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <utility>

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
  // The hold releases a half-open flow's bucket before the flow expires, or it would do nothing.
  EXPECT_LT(config.half_open_hold_s, options.half_open_timeout.count());
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

// The half-open hold: a SYN-only flow counts towards its bucket only while its last packet is
// younger than the hold; past it, it stays in its map and is removed once its bucket is no longer
// kept. Established and closing flows count as before, however long silent.
TEST_F(BpfFlowTableTest, HalfOpenFlowsHoldTheirBucketOnlyWithinTheHold) {
  const MapSnapshot s = Snapshot(test::kTrackedLocal);
  Install(s);
  const std::vector<OpenedFlow> flows = OpenFlows(s, 800);
  const uint64_t now = MonotonicNs();
  // The SYN-only flows this host took, by (rule, bucket).
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> syn_only;
  for (const OpenedFlow& f : flows) {
    if (f.stage != 0) continue;
    ParsedPacket p;
    const Decision d = Decide(TcpFrame(f.client, f.vip, f.port, f.vip_port, kTcpSyn), s, &p);
    if (d.verdict == Verdict::kAccept) ++syn_only[{static_cast<uint32_t>(d.rule_index), d.bucket}];
  }
  ASSERT_GT(syn_only.size(), 10u);
  uint64_t syn_only_count = 0;
  for (const auto& [where, n] : syn_only) syn_only_count += n;

  BpfSweepOptions hold;
  hold.half_open_hold_ns = 5 * kSecond;  // below the close delay, to tell the two apart
  // Within the hold: every flow counts, as in DescriptorTable.
  EXPECT_EQ(Sweep(now + 4 * kSecond, hold), 0u);
  ExpectSameCounts("within the hold");
  EXPECT_EQ(Counters().half_open_past_hold, 0u);

  // Past the hold, before the close delay: the SYN-only flows no longer count, nothing is removed;
  // established flows (6 s silent too) and closing ones still count.
  EXPECT_EQ(Sweep(now + 6 * kSecond, hold), 0u);
  int differences = 0;
  for (uint32_t r = 0; r < NLB_MAX_RULES; ++r) {
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      const auto it = syn_only.find({r, b});
      const uint32_t want = table_->Connections(r, b) - (it == syn_only.end() ? 0 : it->second);
      differences += flows_->Connections(r, b) != want;
    }
  }
  EXPECT_EQ(differences, 0);
  BpfFlowCounters c = Counters();
  EXPECT_EQ(c.half_open_past_hold, syn_only_count);
  EXPECT_EQ(c.half_open, syn_only_count);
  EXPECT_EQ(c.tracked + c.half_open, table_->size());

  // The buckets left empty are released (no longer kept): their half-open flows go.
  std::set<std::pair<uint32_t, uint32_t>> released;
  uint64_t in_released = 0;
  for (const auto& [where, n] : syn_only) {
    if (flows_->Connections(where.first, where.second) != 0) continue;
    released.insert(where);
    in_released += n;
  }
  ASSERT_GT(in_released, 0u);
  const uint64_t not_kept_before = c.swept_not_kept;  // the suite's tests share the table
  hold.keep = [&](uint32_t rule, uint32_t bucket) { return released.count({rule, bucket}) == 0; };
  EXPECT_EQ(Sweep(now + 6 * kSecond, hold), in_released);
  c = Counters();
  EXPECT_EQ(c.swept_not_kept - not_kept_before, in_released);
  EXPECT_EQ(c.half_open_past_hold, syn_only_count - in_released);
  // Without a hold (the default), the ones left count again until they expire.
  Sweep(now + 6 * kSecond);
  EXPECT_EQ(Counters().half_open_past_hold, 0u);
}

// Past its hold, a half-open flow in a bucket this host lost (held: another's, moving) no longer
// keeps the bucket busy, yet the program still tracks it: its late ACK is accepted and promotes
// it, and from then on it counts again.
TEST_F(BpfFlowTableTest, HalfOpenPastItsHoldIsStillTracked) {
  MapSnapshot s = Snapshot(test::kTrackedLocal);
  const uint16_t port = 50100;
  ParsedPacket packet;
  const uint32_t bucket = Decide(TcpFrame(kClient, kVip, port, 80, kTcpAck), s, &packet).bucket;
  test::SetState(s.rules[kWebNone], bucket, BucketState::kOthersMoving);
  Install(s);
  nlb_flow_id id{};
  std::memcpy(id.client, kClient.bytes.data(), 16);
  std::memcpy(id.vip, kVip.bytes.data(), 16);
  id.client_port = port;
  id.vip_port = 80;
  id.rule = kWebNone;
  id.family = NLB_FAMILY_V4;
  const uint64_t now = MonotonicNs();
  // Its SYN came 30 s ago: past a 10 s hold, within the 60 s half-open timeout.
  const nlb_flow value{now - 30 * kSecond, static_cast<uint16_t>(bucket), NLB_FLOW_OPEN, {}};
  ASSERT_EQ(bpf_map_update_elem(plane_->half_open_fd(), &id, &value, BPF_ANY), 0);
  BpfSweepOptions hold;
  hold.half_open_hold_ns = 10 * kSecond;
  hold.keep = [](uint32_t, uint32_t) { return true; };  // owned or moving: all of this map
  EXPECT_EQ(Sweep(now, hold), 0u);
  EXPECT_EQ(flows_->Connections(kWebNone, bucket), 0u);
  EXPECT_EQ(Counters().half_open_past_hold, 1u);

  const uint64_t promoted = Counters().program[NLB_FLOW_PROMOTED];
  const test::KernelDecision k =
      RunProgram(plane_->program_fd(), TcpFrame(kClient, kVip, port, 80, kTcpAck));
  EXPECT_EQ(k.decision.reason, DecisionReason::kTrackedConnection);
  EXPECT_EQ(Counters().program[NLB_FLOW_PROMOTED] - promoted, 1u);
  EXPECT_EQ(Sweep(MonotonicNs(), hold), 0u);
  EXPECT_EQ(flows_->Connections(kWebNone, bucket), 1u);
  EXPECT_EQ(Counters().half_open_past_hold, 0u);
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
  const uint64_t not_kept_before = Counters().swept_not_kept;  // the suite's tests share the table
  EXPECT_EQ(Sweep(MonotonicNs(), options), tls);
  EXPECT_EQ(Counters().swept_not_kept - not_kept_before, tls);
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
