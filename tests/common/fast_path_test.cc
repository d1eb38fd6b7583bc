// The kernel fast path's pure half: which buckets the kernel may deliver (owned, settled, of an
// eligible rule, only while serving), the switch-over intersection, and the per-packet rule that
// keeps the data path from delivering a packet the kernel delivered (never a fragment).
#include "common/fast_path.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"
#include "tests/support/port_rules.h"

namespace nlb {
namespace {

using test::Ip;
using test::PacketBuilder;

constexpr uint16_t kLocal = 2;
const IpAddress kVip = Ip("198.18.0.100");

PortRule Rule(std::string name, FilteringMode mode, Affinity affinity) {
  return test::MakeRule(kVip, 80, 80, Protocol::kBoth, mode, affinity, std::move(name));
}

// Owners 1, 2, 3 in turn: this host (2) owns buckets 1, 4, 7, ...
RuleMap Map(const PortRule& rule) {
  RuleMap m;
  m.rule = rule;
  if (rule.mode == FilteringMode::kMultipleHost) {
    m.bucket_owner.resize(kBucketCount);
    for (uint32_t b = 0; b < kBucketCount; ++b) m.bucket_owner[b] = static_cast<uint16_t>(1 + b % 3);
  } else if (rule.mode == FilteringMode::kSingleHost) {
    m.single_owner = kLocal;
  }
  return m;
}

MapSnapshot Snapshot(std::vector<RuleMap> rules) {
  MapSnapshot s;
  s.local_host_id = kLocal;
  s.default_host_id = 1;
  s.serving = true;
  s.vips = {kVip};
  s.rules = std::move(rules);
  s.generation = 1;
  return s;
}

TEST(FastPathTest, EligibleRules) {
  struct Case {
    FilteringMode mode;
    Affinity affinity;
    bool eligible;
  };
  const Case cases[] = {
      {FilteringMode::kMultipleHost, Affinity::kNone, true},
      {FilteringMode::kMultipleHost, Affinity::kSingle, true},
      // nftables 1.0 cannot mask the address inside jhash.
      {FilteringMode::kMultipleHost, Affinity::kNetwork, false},
      {FilteringMode::kSingleHost, Affinity::kSingle, true},
      {FilteringMode::kDisabled, Affinity::kNone, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FastPathEligible(Rule("r", c.mode, c.affinity)), c.eligible)
        << FilteringModeName(c.mode) << "/" << AffinityName(c.affinity);
  }
}

TEST(FastPathTest, OwnedSettledBucketsOnly) {
  RuleMap web = Map(Rule("web", FilteringMode::kMultipleHost, Affinity::kNone));
  auto moving = std::make_shared<BucketSet>();
  moving->Add(1);   // owned, moving: the connection table decides
  moving->Add(2);   // another host's, moving: not ours anyway
  auto pending = std::make_shared<BucketSet>();
  pending->Add(4);  // owned, pending
  web.moving = moving;
  web.pending = pending;
  const auto fast = ComputeFastPath(Snapshot({web}));
  ASSERT_EQ(fast.size(), 1u);
  EXPECT_FALSE(fast[0].whole_rule);
  EXPECT_FALSE(fast[0].buckets.Contains(1));
  EXPECT_FALSE(fast[0].buckets.Contains(2));
  EXPECT_FALSE(fast[0].buckets.Contains(3));
  EXPECT_FALSE(fast[0].buckets.Contains(4));
  EXPECT_TRUE(fast[0].buckets.Contains(7));
  // Every bucket this host owns (every third) except the two held back.
  EXPECT_EQ(fast[0].buckets.Count(), (kBucketCount + 1) / 3 - 2);
}

TEST(FastPathTest, NothingUnlessServingEnabledAndEligible) {
  const RuleMap web = Map(Rule("web", FilteringMode::kMultipleHost, Affinity::kNone));
  RuleMap off = web;
  off.enabled = false;
  const RuleMap network = Map(Rule("net", FilteringMode::kMultipleHost, Affinity::kNetwork));
  RuleMap others_single = Map(Rule("single", FilteringMode::kSingleHost, Affinity::kSingle));
  others_single.single_owner = 1;
  RuleMap unassigned;
  unassigned.rule = Rule("new", FilteringMode::kMultipleHost, Affinity::kNone);

  MapSnapshot stopped = Snapshot({web});
  stopped.serving = false;
  EXPECT_TRUE(ComputeFastPath(stopped)[0].Empty());
  MapSnapshot no_id = Snapshot({web});
  no_id.local_host_id = kNoHost;
  EXPECT_TRUE(ComputeFastPath(no_id)[0].Empty());
  for (const RuleMap& m : {off, network, others_single, unassigned}) {
    EXPECT_TRUE(ComputeFastPath(Snapshot({m}))[0].Empty()) << m.rule.name;
  }
  const auto single = ComputeFastPath(
      Snapshot({Map(Rule("single", FilteringMode::kSingleHost, Affinity::kSingle))}));
  EXPECT_TRUE(single[0].whole_rule);
  EXPECT_TRUE(single[0].buckets.Empty());
}

TEST(FastPathTest, IntersectionMatchesRulesByContent) {
  const PortRule web = Rule("web", FilteringMode::kMultipleHost, Affinity::kNone);
  PortRule mail = Rule("mail", FilteringMode::kMultipleHost, Affinity::kNone);
  mail.first_port = mail.last_port = 25;
  FastPathRule installed_web{web, false, {}};
  installed_web.buckets.Add(1);
  installed_web.buckets.Add(2);
  FastPathRule installed_mail{mail, false, {}};
  installed_mail.buckets.Add(9);
  FastPathRule next_web{web, false, {}};
  next_web.buckets.Add(2);
  next_web.buckets.Add(3);
  PortRule wider = web;
  wider.last_port = 81;  // changed by a reload: the old kernel rule covers other packets
  FastPathRule next_wider{wider, false, {}};
  next_wider.buckets.Add(2);

  // The rules come in another order than installed: matched by content, not by position.
  const auto both = IntersectFastPath({next_wider, next_web}, {installed_mail, installed_web});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_TRUE(both[0].Empty());
  EXPECT_EQ(both[0].rule, wider);
  EXPECT_EQ(both[1].buckets.Count(), 1u);
  EXPECT_TRUE(both[1].buckets.Contains(2));
  EXPECT_TRUE(IntersectFastPath({next_web}, {})[0].Empty());
}

TEST(FastPathTest, AttachChecksAlignment) {
  MapSnapshot s = Snapshot({Map(Rule("web", FilteringMode::kMultipleHost, Affinity::kNone)),
                            Map(Rule("single", FilteringMode::kSingleHost, Affinity::kSingle))});
  auto fast = ComputeFastPath(s);
  AttachFastPath(s, fast);
  ASSERT_NE(s.rules[0].kernel, nullptr);
  EXPECT_EQ(*s.rules[0].kernel, fast[0].buckets);
  EXPECT_FALSE(s.rules[0].kernel_whole_rule);
  EXPECT_EQ(s.rules[1].kernel, nullptr);
  EXPECT_TRUE(s.rules[1].kernel_whole_rule);
  // Entries for other rules than the snapshot's are not applied: the data path delivers.
  std::swap(fast[0], fast[1]);
  AttachFastPath(s, fast);
  EXPECT_EQ(s.rules[0].kernel, nullptr);
  EXPECT_FALSE(s.rules[1].kernel_whole_rule);
}

// Per packet: a packet Decide() accepts is left to the kernel exactly when the kernel rule would
// have matched it (same rule, bucket in the kernel's set, not a fragment).
TEST(FastPathTest, DeliversOnlyWhatTheKernelRuleMatches) {
  MapSnapshot s = Snapshot({Map(Rule("web", FilteringMode::kMultipleHost, Affinity::kNone))});
  AttachFastPath(s, ComputeFastPath(s));
  int kernel = 0, data_path = 0;
  for (uint16_t port = 20000; port < 20300; ++port) {
    const auto frame =
        PacketBuilder().Ipv4(Ip("198.18.2.1"), kVip).Tcp(port, 80).Payload(4).Build();
    ParsedPacket packet;
    const Decision d = Decide(frame, s, &packet);
    if (d.verdict != Verdict::kAccept) continue;
    ASSERT_GE(d.rule_index, 0);
    const bool in_kernel = FastPathDelivers(s.rules[0], packet, d);
    EXPECT_EQ(in_kernel, s.rules[0].kernel->Contains(d.bucket));
    (in_kernel ? kernel : data_path) += 1;
  }
  EXPECT_GT(kernel, 50);
  EXPECT_EQ(data_path, 0);

  // A fragment of an accepted datagram: the kernel rule skips fragments, the data path delivers.
  const auto fragment = PacketBuilder()
                            .Ipv4(Ip("198.18.2.1"), kVip)
                            .Fragment(0, true)
                            .Udp(20000, 80)
                            .Payload(64)
                            .Build();
  ParsedPacket packet;
  const Decision d = Decide(fragment, s, &packet);
  if (d.verdict == Verdict::kAccept) {
    EXPECT_FALSE(FastPathDelivers(s.rules[0], packet, d));
  }
  packet.is_fragment = true;
  Decision owned;
  owned.verdict = Verdict::kAccept;
  owned.reason = DecisionReason::kOwnedBucket;
  owned.rule_index = 0;
  owned.bucket = 7;  // owned and settled
  EXPECT_FALSE(FastPathDelivers(s.rules[0], packet, owned));
  packet.is_fragment = false;
  EXPECT_TRUE(FastPathDelivers(s.rules[0], packet, owned));
  // Tracked connections of a moving bucket and the default host are never the kernel's.
  owned.reason = DecisionReason::kTrackedConnection;
  EXPECT_FALSE(FastPathDelivers(s.rules[0], packet, owned));
  owned.reason = DecisionReason::kDefaultHost;
  EXPECT_FALSE(FastPathDelivers(s.rules[0], packet, owned));
}


TEST(FastPathTest, DifferenceLeavesWhatTheKeptShareLacks) {
  const PortRule web = Rule("web", FilteringMode::kMultipleHost, Affinity::kNone);
  const PortRule single = Rule("single", FilteringMode::kSingleHost, Affinity::kSingle);
  PortRule mail = Rule("mail", FilteringMode::kMultipleHost, Affinity::kNone);
  mail.first_port = mail.last_port = 25;
  FastPathRule from_web{web, false, {}};
  for (uint32_t b : {1u, 2u, 3u}) from_web.buckets.Add(b);
  FastPathRule keep_web{web, false, {}};
  keep_web.buckets.Add(2);
  FastPathRule from_mail{mail, false, {}};
  from_mail.buckets.Add(9);
  const FastPathRule from_single{single, true, {}};

  // web loses 1 and 3; mail is not kept at all; the single-host rule is kept whole.
  const auto left = FastPathDifference({from_web, from_mail, from_single},
                                       {keep_web, from_single});
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].rule, web);
  EXPECT_EQ(left[0].buckets.Count(), 2u);
  EXPECT_TRUE(left[0].buckets.Contains(1));
  EXPECT_TRUE(left[0].buckets.Contains(3));
  EXPECT_EQ(left[1].rule, mail);
  EXPECT_TRUE(left[1].buckets.Contains(9));
  // Nothing leaves: nothing at all.
  EXPECT_TRUE(FastPathDifference({keep_web}, {from_web}).empty());
  // A single-host rule no longer owned leaves whole.
  const auto whole = FastPathDifference({from_single}, {});
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_TRUE(whole[0].whole_rule);
}

TEST(FastPathTest, RulesAreDisjointUnlessAnAllRuleMeetsAnEarlierVipRule) {
  auto rule = [](std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol p) {
    RuleMap m;
    m.rule = test::MakeRule(std::move(vip), first, last, p);
    return m;
  };
  struct Case {
    const char* what;
    std::vector<RuleMap> rules;
    bool disjoint;
  };
  const std::vector<Case> cases = {
      {"one rule", {rule(kVip, 80, 80, Protocol::kTcp)}, true},
      {"two VIP rules", {rule(kVip, 80, 80, Protocol::kTcp), rule(kVip, 443, 443, Protocol::kTcp)},
       true},
      {"VIP rule, then all on other ports",
       {rule(kVip, 80, 80, Protocol::kTcp), rule(std::nullopt, 1000, 2000, Protocol::kTcp)}, true},
      {"VIP rule, then all on another protocol",
       {rule(kVip, 53, 53, Protocol::kUdp), rule(std::nullopt, 0, 65535, Protocol::kTcp)}, true},
      {"VIP rule, then all over its port",
       {rule(kVip, 80, 80, Protocol::kTcp), rule(std::nullopt, 0, 65535, Protocol::kBoth)}, false},
      {"VIP rule, then all sharing one port",
       {rule(kVip, 80, 90, Protocol::kBoth), rule(std::nullopt, 90, 100, Protocol::kUdp)}, false},
  };
  for (const Case& c : cases) EXPECT_EQ(RulesAreDisjoint(c.rules), c.disjoint) << c.what;
}

}  // namespace
}  // namespace nlb
