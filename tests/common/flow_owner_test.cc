// FlowOwner: `owner` names the host whose data path accepts the flow (checked against Decide on
// every host for random flows), the rule and bucket, and every kind of rule and refusal; the
// request's words parse and print back.
#include "common/flow_owner.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"
#include "tests/support/port_rules.h"

namespace nlb {
namespace {

using test::Ip;
using test::MakeRule;

const IpAddress kVip = Ip("198.18.0.100");
const IpAddress kVip6 = Ip("2001:2::100");
constexpr uint16_t kHosts = 3;

RuleMap Rule(std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol protocol,
             FilteringMode mode, Affinity affinity, const std::string& name) {
  RuleMap map;
  map.rule = MakeRule(vip, first, last, protocol, mode, affinity, name);
  if (mode == FilteringMode::kMultipleHost) {
    map.bucket_owner.resize(kBucketCount);
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      map.bucket_owner[b] = static_cast<uint16_t>((b / 5 + first) % kHosts + 1);
    }
  }
  return map;
}

MapSnapshot Snapshot(uint16_t local) {
  MapSnapshot s;
  s.local_host_id = local;
  s.default_host_id = 1;
  s.serving = true;
  s.vips = {kVip, kVip6};
  using enum FilteringMode;
  s.rules.push_back(Rule(kVip, 80, 80, Protocol::kTcp, kMultipleHost, Affinity::kNone, "http"));
  s.rules.push_back(Rule(kVip, 25, 25, Protocol::kTcp, kSingleHost, Affinity::kSingle, "mail"));
  s.rules.back().single_owner = 2;
  s.rules.push_back(Rule(kVip, 23, 23, Protocol::kTcp, kDisabled, Affinity::kSingle, "telnet"));
  s.rules.push_back(
      Rule(std::nullopt, 0, 65535, Protocol::kUdp, kMultipleHost, Affinity::kSingle, "udp-all"));
  s.rules.push_back(
      Rule(std::nullopt, 443, 443, Protocol::kTcp, kMultipleHost, Affinity::kNetwork, "tls"));
  return s;
}

std::vector<std::string> Words(std::initializer_list<const char*> words) {
  return std::vector<std::string>(words.begin(), words.end());
}

OwnerQuery Parse(std::initializer_list<const char*> words) {
  const std::vector<std::string> args = Words(words);
  Result<OwnerQuery> q = ParseOwnerQuery(args);
  EXPECT_TRUE(q.ok()) << q.status().message();
  return q.ok() ? q.value() : OwnerQuery{};
}

// The one host whose own snapshot accepts the frame, or kNoHost. The snapshots are built once:
// a map is 16384 owners per rule.
uint16_t Acceptor(const std::vector<uint8_t>& frame) {
  static const std::vector<MapSnapshot> hosts = {Snapshot(1), Snapshot(2), Snapshot(3)};
  uint16_t accepted = kNoHost;
  for (const MapSnapshot& host : hosts) {
    ParsedPacket packet;
    if (Decide(frame, host, &packet).verdict == Verdict::kAccept) {
      EXPECT_EQ(accepted, kNoHost) << "two hosts accept one flow";
      accepted = host.local_host_id;
    }
  }
  return accepted;
}

TEST(FlowOwnerTest, AgreesWithEveryHostsDecisionForRandomFlows) {
  std::mt19937 random(12);
  const MapSnapshot seen_from_3 = Snapshot(3);
  for (int i = 0; i < 1000; ++i) {
    const bool v6 = i % 4 == 3;
    const bool udp = i % 2 == 1;
    const uint16_t client_port = static_cast<uint16_t>(1024 + random() % 60000);
    const IpAddress client =
        v6 ? Ip("2001:2:0:" + std::to_string(1 + random() % 9999) + "::" + std::to_string(i + 1))
           : Ip("198.18." + std::to_string(2 + random() % 200) + "." + std::to_string(1 + i % 250));
    const IpAddress vip = v6 ? kVip6 : kVip;
    const uint16_t port = udp ? static_cast<uint16_t>(random() % 65536) : (i % 3 == 0 ? 443 : 80);
    test::PacketBuilder builder;
    if (v6) {
      builder.Ipv6(client, vip);
    } else {
      builder.Ipv4(client, vip);
    }
    if (udp) {
      builder.Udp(client_port, port);
    } else {
      builder.Tcp(client_port, port, kTcpSyn);
    }
    OwnerQuery query;
    query.client = client;
    query.client_port = client_port;
    query.vip = vip;
    query.port = port;
    query.ip_protocol = udp ? kIpProtoUdp : kIpProtoTcp;
    const Result<std::vector<FlowOwner>> owners = FindFlowOwners(seen_from_3, query);
    ASSERT_TRUE(owners.ok()) << owners.status().message();
    ASSERT_EQ(owners->size(), 1u);
    EXPECT_EQ(owners.value()[0].owner, Acceptor(builder.Build()))
        << client.ToString() << ":" << client_port << " -> " << port << (udp ? "/udp" : "/tcp");
  }
}

TEST(FlowOwnerTest, EachKindOfRule) {
  struct Case {
    std::string name;
    std::vector<std::string> words;
    std::string rule;
    uint16_t owner;
    DecisionReason reason;
    bool has_bucket;
    bool port_matters;
  };
  const std::vector<Case> cases = {
      {"multiple-host, affinity none", Words({"198.18.2.1:4000", "198.18.0.100:80"}), "http",
       Acceptor(test::PacketBuilder().Ipv4(Ip("198.18.2.1"), kVip).Tcp(4000, 80).Build()),
       DecisionReason::kOwnedBucket, true, true},
      {"single host", Words({"198.18.2.1", "198.18.0.100:25"}), "mail", 2,
       DecisionReason::kSingleHostOwner, false, false},
      {"disabled: nobody", Words({"198.18.2.1", "198.18.0.100:23"}), "telnet", kNoHost,
       DecisionReason::kRuleDisabled, false, false},
      {"no rule: the default host", Words({"198.18.2.1", "198.18.0.100:8080", "tcp"}), "", 1,
       DecisionReason::kDefaultHost, false, false},
      {"only a UDP rule covers it: UDP without asking", Words({"198.18.2.1", "198.18.0.100:53"}),
       "udp-all", Acceptor(test::PacketBuilder().Ipv4(Ip("198.18.2.1"), kVip).Udp(0, 53).Build()),
       DecisionReason::kOwnedBucket, true, false},
      {"asked for TCP: the default host", Words({"198.18.2.1", "198.18.0.100:53", "tcp"}), "", 1,
       DecisionReason::kDefaultHost, false, false},
  };
  const MapSnapshot snapshot = Snapshot(1);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Result<OwnerQuery> query = ParseOwnerQuery(c.words);
    ASSERT_TRUE(query.ok()) << query.status().message();
    const Result<std::vector<FlowOwner>> owners = FindFlowOwners(snapshot, query.value());
    ASSERT_TRUE(owners.ok()) << owners.status().message();
    ASSERT_EQ(owners->size(), 1u);
    const FlowOwner& o = owners.value()[0];
    EXPECT_EQ(o.rule, c.rule);
    EXPECT_EQ(o.owner, c.owner);
    EXPECT_EQ(o.reason, c.reason);
    EXPECT_EQ(o.bucket.has_value(), c.has_bucket);
    EXPECT_EQ(o.port_matters, c.port_matters);
  }
}

TEST(FlowOwnerTest, WithoutVipEveryRuleOfTheClientsFamily) {
  const Result<std::vector<FlowOwner>> v4 = FindFlowOwners(Snapshot(1), Parse({"198.18.2.1:9"}));
  ASSERT_TRUE(v4.ok());
  std::vector<std::string> rules;
  for (const FlowOwner& o : v4.value()) rules.push_back(o.rule + "@" + std::to_string(o.port));
  EXPECT_EQ(rules,
            (std::vector<std::string>{"http@80", "mail@25", "telnet@23", "udp-all@0", "tls@443"}));
  const Result<std::vector<FlowOwner>> v6 = FindFlowOwners(Snapshot(1), Parse({"2001:2::9"}));
  ASSERT_TRUE(v6.ok());
  rules.clear();
  for (const FlowOwner& o : v6.value()) rules.push_back(o.rule);
  EXPECT_EQ(rules, (std::vector<std::string>{"udp-all", "tls"}));
}

TEST(FlowOwnerTest, MovingBucketIsMarked) {
  MapSnapshot s = Snapshot(1);
  const OwnerQuery q = Parse({"198.18.2.1:4000", "198.18.0.100:80"});
  const uint32_t bucket = *FindFlowOwners(s, q).value()[0].bucket;
  auto moving = std::make_shared<BucketSet>();
  moving->Add(bucket);
  s.rules[0].moving = moving;
  EXPECT_TRUE(FindFlowOwners(s, q).value()[0].moving);
}

TEST(FlowOwnerTest, RefusalsNameTheProblem) {
  struct Case {
    std::vector<std::string> words;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {{}, "needs CLIENT"},
      {Words({"198.18.2"}), "'198.18.2' is not CLIENT[:PORT]"},
      {Words({"198.18.2.1:70000"}), "is not CLIENT[:PORT]"},
      {Words({"198.18.2.1", "198.18.0.100"}), "is not VIP:PORT"},
      {Words({"198.18.2.1", "[2001:2::100]:80"}), "different address families"},
      {Words({"198.18.2.1", "udp", "198.18.0.100:80"}), "the protocol comes last"},
      {Words({"198.18.2.1", "198.18.0.100:80", "198.18.0.100:81"}), "one VIP:PORT only"},
      {Words({"198.18.2.1", "198.18.0.100:80", "tcp", "x"}), "'x' is extra"},
  };
  for (const Case& c : cases) {
    const Result<OwnerQuery> q = ParseOwnerQuery(c.words);
    ASSERT_FALSE(q.ok()) << c.message_part;
    EXPECT_EQ(q.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(q.status().message().find(c.message_part), std::string::npos) << q.status().message();
  }
  const Result<std::vector<FlowOwner>> unknown =
      FindFlowOwners(Snapshot(1), Parse({"198.18.2.1", "198.18.0.7:80"}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
}

TEST(FlowOwnerTest, WordsRoundTrip) {
  for (const auto& words :
       {Words({"198.18.2.1"}), Words({"198.18.2.1:5", "198.18.0.100:80"}),
        Words({"[2001:2::5]:7", "[2001:2::100]:443", "udp"}), Words({"2001:2::5", "tcp"})}) {
    std::vector<std::string> expected = {"owner"};
    expected.insert(expected.end(), words.begin(), words.end());
    const Result<OwnerQuery> q = ParseOwnerQuery(words);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(OwnerRequestWords(q.value()), expected);
  }
}

}  // namespace
}  // namespace nlb
