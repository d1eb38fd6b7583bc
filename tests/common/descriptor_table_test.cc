// DescriptorTable: the life of a flow (tables of packets and sweeps on simulated time), the
// full-table policy, per-bucket counts, and a randomized comparison with a plain std::map model
// that exercises the backward-shift deletion.
#include "common/descriptor_table.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/packet.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;
const Clock::time_point kOrigin{std::chrono::hours(1)};

DescriptorTableOptions Options(uint32_t capacity = 1024) {
  DescriptorTableOptions o;
  o.capacity = capacity;
  o.idle_timeout = seconds(900);
  o.close_delay = seconds(10);
  o.seed = 42;
  return o;
}

FlowKey Key(uint32_t n, uint8_t rule = 0) {
  const uint8_t client[4] = {198, 19, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  return FlowKey{IpAddress::V4(client), test::Ip("198.18.0.100"),
                 static_cast<uint16_t>(1024 + n % 60000), 80, rule};
}

constexpr auto kKeepAll = [](uint32_t, uint32_t) { return true; };

// One flow's life: packets at times (seconds after the origin), then a sweep at `sweep_at`.
struct LifeCase {
  std::string name;
  std::vector<std::pair<int, uint8_t>> packets;  // {time, tcp flags}; the first is Open
  int sweep_at;
  bool present;
};

TEST(DescriptorTableTest, LifeOfAFlow) {
  const std::vector<LifeCase> cases = {
      {"open flow stays before the idle timeout", {{0, kTcpSyn}}, 899, true},
      {"idle timeout removes an open flow", {{0, kTcpSyn}}, 900, false},
      {"a packet restarts the idle timeout", {{0, kTcpSyn}, {500, kTcpAck}}, 1399, true},
      {"FIN: kept during the close delay", {{0, kTcpSyn}, {5, kTcpFin | kTcpAck}}, 14, true},
      {"FIN: removed after the close delay", {{0, kTcpSyn}, {5, kTcpFin | kTcpAck}}, 15, false},
      {"RST: removed after the close delay", {{0, kTcpSyn}, {5, kTcpRst}}, 15, false},
      {"packets after FIN push the delay",
       {{0, kTcpSyn}, {5, kTcpFin | kTcpAck}, {12, kTcpAck}},
       21,
       true},
      {"a new SYN reopens a closing flow", {{0, kTcpSyn}, {5, kTcpRst}, {6, kTcpSyn}}, 100, true},
  };
  for (const LifeCase& c : cases) {
    SCOPED_TRACE(c.name);
    DescriptorTable table(Options(), kOrigin);
    const FlowKey key = Key(7);
    for (size_t i = 0; i < c.packets.size(); ++i) {
      const auto at = kOrigin + seconds(c.packets[i].first);
      const uint8_t flags = c.packets[i].second;
      if ((flags & (kTcpSyn | kTcpAck)) == kTcpSyn) {
        const auto result = table.Open(key, 1234, at);
        EXPECT_EQ(result, i == 0 ? DescriptorTable::OpenResult::kAdded
                                 : DescriptorTable::OpenResult::kExisting);
      } else {
        EXPECT_TRUE(table.Touch(key, flags, at));
      }
    }
    table.Sweep(kOrigin + seconds(c.sweep_at), table.slot_count(), kKeepAll);
    EXPECT_EQ(table.Contains(key), c.present);
    EXPECT_EQ(table.Connections(0, 1234), c.present ? 1u : 0u);
    EXPECT_EQ(table.RuleConnections(0), c.present ? 1u : 0u);
    EXPECT_EQ(table.size(), c.present ? 1u : 0u);
  }
}

TEST(DescriptorTableTest, UntrackedFlowsAreNotTouched) {
  DescriptorTable table(Options(), kOrigin);
  EXPECT_FALSE(table.Touch(Key(1), kTcpAck, kOrigin));
  EXPECT_FALSE(table.Remove(Key(1)));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Open(Key(1, kMaxTrackedRules), 1, kOrigin),
            DescriptorTable::OpenResult::kInvalid);
  EXPECT_EQ(table.Open(Key(1), kBucketCount, kOrigin), DescriptorTable::OpenResult::kInvalid);
}

TEST(DescriptorTableTest, KeyIncludesEveryField) {
  DescriptorTable table(Options(), kOrigin);
  FlowKey base = Key(1);
  ASSERT_EQ(table.Open(base, 5, kOrigin), DescriptorTable::OpenResult::kAdded);
  FlowKey other_port = base;
  other_port.client_port++;
  FlowKey other_vip_port = base;
  other_vip_port.vip_port = 443;
  FlowKey other_rule = base;
  other_rule.rule_index = 1;
  FlowKey other_vip = base;
  other_vip.vip = test::Ip("198.18.0.101");
  FlowKey v6 = base;
  v6.client = test::Ip("2001:2::2:1");
  for (const FlowKey& k : {other_port, other_vip_port, other_rule, other_vip, v6}) {
    EXPECT_FALSE(table.Contains(k));
  }
  EXPECT_TRUE(table.Contains(base));
}

TEST(DescriptorTableTest, CountsPerRuleAndBucket) {
  DescriptorTable table(Options(), kOrigin);
  for (uint32_t i = 0; i < 10; ++i)
    ASSERT_NE(table.Open(Key(i, 0), 100 + i % 2, kOrigin), DescriptorTable::OpenResult::kFull);
  for (uint32_t i = 0; i < 3; ++i)
    ASSERT_NE(table.Open(Key(i, 3), 100, kOrigin), DescriptorTable::OpenResult::kFull);
  EXPECT_EQ(table.Connections(0, 100), 5u);
  EXPECT_EQ(table.Connections(0, 101), 5u);
  EXPECT_EQ(table.Connections(3, 100), 3u);
  EXPECT_EQ(table.RuleConnections(0), 10u);
  EXPECT_EQ(table.RuleConnections(3), 3u);
  EXPECT_TRUE(table.Remove(Key(0, 0)));
  EXPECT_EQ(table.Connections(0, 100), 4u);
  EXPECT_EQ(table.size(), 12u);
}

TEST(DescriptorTableTest, SweepDropsFlowsOfBucketsNoLongerServed) {
  DescriptorTable table(Options(), kOrigin);
  for (uint32_t i = 0; i < 20; ++i)
    ASSERT_EQ(table.Open(Key(i), i, kOrigin), DescriptorTable::OpenResult::kAdded);
  const uint32_t removed = table.Sweep(kOrigin, table.slot_count(),
                                       [](uint32_t, uint32_t bucket) { return bucket % 2 == 0; });
  EXPECT_EQ(removed, 10u);
  for (uint32_t i = 0; i < 20; ++i) EXPECT_EQ(table.Contains(Key(i)), i % 2 == 0) << i;
  EXPECT_EQ(table.counters().removed_moved.load(), 10u);
}

// A reload renumbered the rules (common/rule_numbering.h): flows follow their rule, counts too,
// and the flows of a removed rule go. Table-driven over remaps; a full table (every slot of the
// probe runs in use, clusters wrapping round the end) so that backward shifts happen while the
// walk runs, and swaps, which would undo themselves if a flow were renumbered twice.
TEST(DescriptorTableTest, RenumberMovesFlowsAndCountsToTheirNewRule) {
  constexpr uint8_t kGone = 0xff;
  const struct {
    const char* description;
    std::vector<uint8_t> old_to_new;  // rules 0..2; the rest are gone
  } cases[] = {
      {"insert before all", {1, 2, 3}},
      {"remove the first", {kGone, 0, 1}},
      {"swap", {1, 0, 2}},
      {"rotate and remove", {2, kGone, 0}},
      {"identity", {0, 1, 2}},
      {"remove all", {kGone, kGone, kGone}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    DescriptorTable table(Options(1024), kOrigin);
    std::vector<std::pair<uint32_t, uint8_t>> flows;  // (flow, rule) that were added
    for (uint32_t i = 0; i < 1024; ++i) {
      const uint8_t rule = static_cast<uint8_t>(i % 3);
      const auto r = table.Open(Key(i, rule), i % 50, kOrigin);
      if (r == DescriptorTable::OpenResult::kAdded) flows.emplace_back(i, rule);
    }
    ASSERT_GT(flows.size(), 1000u);
    std::array<uint8_t, kMaxTrackedRules> remap;
    remap.fill(kGone);
    for (size_t r = 0; r < c.old_to_new.size(); ++r) remap[r] = c.old_to_new[r];
    table.Renumber(remap, 7);
    EXPECT_EQ(table.rule_epoch(), 7u);
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> expected;  // (rule, bucket) -> flows
    uint64_t kept = 0;
    for (const auto& [flow, rule] : flows) {
      const uint8_t to = c.old_to_new[rule];
      EXPECT_EQ(table.Contains(Key(flow, rule)), to == rule) << flow;
      if (to == kGone) continue;
      EXPECT_TRUE(table.Contains(Key(flow, to))) << flow;
      ++expected[{to, flow % 50}];
      ++kept;
    }
    EXPECT_EQ(table.size(), kept);
    EXPECT_EQ(table.counters().removed_moved.load(), flows.size() - kept);
    for (uint32_t r = 0; r < 4; ++r) {
      uint64_t total = 0;
      for (uint32_t b = 0; b < 50; ++b) {
        const auto it = expected.find({r, b});
        const uint32_t n = it == expected.end() ? 0 : it->second;
        EXPECT_EQ(table.Connections(r, b), n) << "rule " << r << " bucket " << b;
        total += n;
      }
      EXPECT_EQ(table.RuleConnections(r), total) << "rule " << r;
    }
    // Still a sound table: every flow can be closed and found again after the renumbering.
    for (const auto& [flow, rule] : flows) {
      const uint8_t to = c.old_to_new[rule];
      if (to != kGone) {
        EXPECT_TRUE(table.Remove(Key(flow, to))) << flow;
      }
    }
    EXPECT_EQ(table.size(), 0u);
  }
}

TEST(DescriptorTableTest, SweepIsAmortized) {
  DescriptorTable table(Options(1000), kOrigin);
  for (uint32_t i = 0; i < 1000; ++i)
    ASSERT_NE(table.Open(Key(i), 1, kOrigin), DescriptorTable::OpenResult::kFull);
  const auto late = kOrigin + seconds(1000);
  uint32_t removed = 0;
  int calls = 0;
  while (table.size() > 0) {
    removed += table.Sweep(late, 64, kKeepAll);
    ASSERT_LT(++calls, 1000);
  }
  EXPECT_EQ(removed, 1000u);
  EXPECT_LE(calls, static_cast<int>(table.slot_count() / 64 + 2));
}

// Full: closing flows are evicted first (the one seen longest ago), then expired ones; with
// nothing evictable the new flow is refused and counted.
TEST(DescriptorTableTest, FullTablePolicy) {
  struct Case {
    std::string name;
    std::vector<int> closing_at;  // indexes of flows closed (at time 10 + index)
    int new_flow_at;              // seconds
    DescriptorTable::OpenResult result;
    int evicted;  // index of the flow that must be gone, -1 none
  };
  const std::vector<Case> cases = {
      {"nothing evictable: refused", {}, 20, DescriptorTable::OpenResult::kFull, -1},
      {"one closing flow: evicted", {5}, 20, DescriptorTable::OpenResult::kEvicted, 5},
      {"oldest closing flow first", {9, 3, 7}, 20, DescriptorTable::OpenResult::kEvicted, 3},
      {"expired open flow when none closes", {}, 1000, DescriptorTable::OpenResult::kEvicted, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // 16 flows fill the smallest table, whose 32 slots all lie in one probe window.
    DescriptorTable table(Options(16), kOrigin);
    for (int i = 0; i < 16; ++i) {
      ASSERT_EQ(table.Open(Key(i), 1, kOrigin + seconds(i)), DescriptorTable::OpenResult::kAdded);
    }
    for (int i : c.closing_at) table.Touch(Key(i), kTcpFin, kOrigin + seconds(10 + i));
    EXPECT_EQ(table.Open(Key(100), 1, kOrigin + seconds(c.new_flow_at)), c.result);
    EXPECT_EQ(table.size(), 16u);
    if (c.evicted >= 0) {
      EXPECT_FALSE(table.Contains(Key(c.evicted)));
      EXPECT_TRUE(table.Contains(Key(100)));
      EXPECT_EQ(table.counters().evicted.load(), 1u);
    } else {
      EXPECT_FALSE(table.Contains(Key(100)));
      EXPECT_EQ(table.counters().table_full.load(), 1u);
    }
    EXPECT_EQ(table.Connections(0, 1), 16u);
  }
}

// Random operations against a std::map model: membership and counts always agree.
TEST(DescriptorTableTest, AgreesWithAModel) {
  DescriptorTableOptions options = Options(2000);
  options.idle_timeout = seconds(1 << 30);  // nothing expires, so nothing is evicted
  DescriptorTable table(options, kOrigin);
  std::map<uint32_t, std::tuple<uint32_t, bool, int>> model;  // flow -> bucket, closing, last seen
  std::mt19937 rng(7);
  int now = 0;
  for (int step = 0; step < 200000; ++step) {
    const uint32_t flow = rng() % 3000;
    const uint32_t bucket = flow % 97;
    const auto at = kOrigin + seconds(now);
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {
        const auto r = table.Open(Key(flow), bucket, at);
        if (r == DescriptorTable::OpenResult::kAdded ||
            r == DescriptorTable::OpenResult::kExisting) {
          model[flow] = {bucket, false, now};
        }
        ASSERT_NE(r, DescriptorTable::OpenResult::kEvicted);  // nothing closes or expires in time
        break;
      }
      case 3:
      case 4: {
        const bool tracked = model.contains(flow);
        ASSERT_EQ(table.Touch(Key(flow), kTcpAck, at), tracked);
        if (tracked) std::get<2>(model[flow]) = now;
        break;
      }
      case 5:
      case 6:
        ASSERT_EQ(table.Remove(Key(flow)), model.erase(flow) == 1);
        break;
      case 7:
        ++now;
        break;
    }
    if (step % 997 == 0) {
      ASSERT_EQ(table.size(), model.size());
      for (uint32_t f = 0; f < 3000; f += 7)
        ASSERT_EQ(table.Contains(Key(f)), model.contains(f)) << f;
      std::map<uint32_t, uint32_t> per_bucket;
      for (const auto& [f, v] : model) ++per_bucket[std::get<0>(v)];
      for (uint32_t b = 0; b < 97; ++b) ASSERT_EQ(table.Connections(0, b), per_bucket[b]) << b;
    }
  }
  EXPECT_EQ(table.counters().table_full.load(), 0u);
}

TEST(DescriptorTableTest, MemoryPerFlow) {
  DescriptorTable table(Options(1048576), kOrigin);
  EXPECT_EQ(sizeof(DescriptorTable::Entry), 44u);
  EXPECT_EQ(table.slot_count(), 2097152u);
  // 44 bytes x 2 slots = 88 bytes per flow, plus 8 MiB of per-bucket counts.
  EXPECT_LT(table.memory_bytes(), 1048576u * 88 + 9u * 1024 * 1024);
}

}  // namespace
}  // namespace nlb

namespace nlb {
namespace {

uint32_t BucketUnder(const FlowKey& k, Affinity a) {
  return BucketOfHash(FlowHash(k.client, true, k.client_port, a, kDefaultIpv6NetworkPrefix));
}

// An affinity change by reload: every flow of the rule is counted in the bucket the new key
// gives it, other rules are untouched, and a renumbering carries the recorded key along.
TEST(DescriptorTableTest, SetClientKeyRebucketsOnlyThatRule) {
  DescriptorTable table(Options(), kOrigin);
  table.SetClientKey(0, {Affinity::kNone, kDefaultIpv6NetworkPrefix});
  table.SetClientKey(1, {Affinity::kNone, kDefaultIpv6NetworkPrefix});
  for (uint32_t i = 0; i < 50; ++i) {
    ASSERT_EQ(table.Open(Key(i, 0), BucketUnder(Key(i, 0), Affinity::kNone), kOrigin),
              DescriptorTable::OpenResult::kAdded);
    ASSERT_EQ(table.Open(Key(i, 1), BucketUnder(Key(i, 1), Affinity::kNone), kOrigin),
              DescriptorTable::OpenResult::kAdded);
  }
  table.SetClientKey(0, {Affinity::kSingle, kDefaultIpv6NetworkPrefix});
  table.ForEach([&](const FlowKey& k, uint32_t bucket, FlowState, uint32_t) {
    EXPECT_EQ(bucket, BucketUnder(k, k.rule_index == 0 ? Affinity::kSingle : Affinity::kNone));
  });
  uint64_t counted = 0;
  for (uint32_t b = 0; b < kBucketCount; ++b) counted += table.Connections(0, b);
  EXPECT_EQ(counted, 50u);
  EXPECT_EQ(table.Connections(0, BucketUnder(Key(7, 0), Affinity::kSingle)), 1u);
  EXPECT_EQ(table.RuleConnections(0), 50u);
  EXPECT_EQ(table.size(), 100u);
  for (uint32_t i = 0; i < 50; ++i) EXPECT_TRUE(table.Contains(Key(i, 0))) << i;

  // Rule 0 becomes rule 1 and rule 1 rule 0: their keys go with them, so setting each rule's
  // own key again changes nothing.
  std::array<uint8_t, kMaxTrackedRules> swap{};
  for (size_t r = 0; r < swap.size(); ++r) swap[r] = static_cast<uint8_t>(r);
  swap[0] = 1;
  swap[1] = 0;
  table.Renumber(swap, 1);
  table.SetClientKey(1, {Affinity::kSingle, kDefaultIpv6NetworkPrefix});
  table.SetClientKey(0, {Affinity::kNone, kDefaultIpv6NetworkPrefix});
  table.ForEach([&](const FlowKey& k, uint32_t bucket, FlowState, uint32_t) {
    EXPECT_EQ(bucket, BucketUnder(k, k.rule_index == 1 ? Affinity::kSingle : Affinity::kNone));
  });
}

}  // namespace
}  // namespace nlb
