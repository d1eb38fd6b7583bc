// PortRule: which packets a rule covers, which rules collide, and how a rule reads in messages.
#include "common/port_rule.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/packet.h"
#include "tests/support/packet_builder.h"
#include "tests/support/port_rules.h"

namespace nlb {
namespace {

using test::Ip;

PortRule Rule(std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol protocol) {
  return test::MakeRule(std::move(vip), first, last, protocol);
}

const IpAddress kVip = Ip("198.18.0.100");
const IpAddress kOtherVip = Ip("198.18.0.101");
const IpAddress kVip6 = Ip("2001:2::100");

TEST(PortRuleTest, Covers) {
  struct Case {
    std::string description;
    PortRule rule;
    IpAddress destination;
    uint8_t ip_protocol;
    uint16_t port;
    bool covers;
  };
  const std::vector<Case> cases = {
      {"tcp rule, tcp in range", Rule(kVip, 80, 80, Protocol::kTcp), kVip, kIpProtoTcp, 80, true},
      {"tcp rule, udp", Rule(kVip, 80, 80, Protocol::kTcp), kVip, kIpProtoUdp, 80, false},
      {"udp rule, udp", Rule(kVip, 53, 53, Protocol::kUdp), kVip, kIpProtoUdp, 53, true},
      {"udp rule, tcp", Rule(kVip, 53, 53, Protocol::kUdp), kVip, kIpProtoTcp, 53, false},
      {"both, tcp", Rule(kVip, 1, 100, Protocol::kBoth), kVip, kIpProtoTcp, 50, true},
      {"both, udp", Rule(kVip, 1, 100, Protocol::kBoth), kVip, kIpProtoUdp, 50, true},
      {"both, icmp never", Rule(kVip, 0, 65535, Protocol::kBoth), kVip, kIpProtoIcmp, 0, false},
      {"both, icmpv6 never", Rule(kVip6, 0, 65535, Protocol::kBoth), kVip6, kIpProtoIcmpv6, 0,
       false},
      {"first port inclusive", Rule(kVip, 1000, 2000, Protocol::kTcp), kVip, kIpProtoTcp, 1000,
       true},
      {"last port inclusive", Rule(kVip, 1000, 2000, Protocol::kTcp), kVip, kIpProtoTcp, 2000,
       true},
      {"below range", Rule(kVip, 1000, 2000, Protocol::kTcp), kVip, kIpProtoTcp, 999, false},
      {"above range", Rule(kVip, 1000, 2000, Protocol::kTcp), kVip, kIpProtoTcp, 2001, false},
      {"port 0 in full range", Rule(kVip, 0, 65535, Protocol::kTcp), kVip, kIpProtoTcp, 0, true},
      {"port 65535 in full range", Rule(kVip, 0, 65535, Protocol::kTcp), kVip, kIpProtoTcp, 65535,
       true},
      {"other VIP", Rule(kVip, 80, 80, Protocol::kTcp), kOtherVip, kIpProtoTcp, 80, false},
      {"all covers any VIP", Rule(std::nullopt, 80, 80, Protocol::kTcp), kOtherVip, kIpProtoTcp, 80,
       true},
      {"all covers IPv6 VIP", Rule(std::nullopt, 80, 80, Protocol::kTcp), kVip6, kIpProtoTcp, 80,
       true},
      {"IPv6 rule, IPv6 VIP", Rule(kVip6, 443, 443, Protocol::kTcp), kVip6, kIpProtoTcp, 443, true},
      {"IPv6 rule, IPv4 VIP", Rule(kVip6, 443, 443, Protocol::kTcp), kVip, kIpProtoTcp, 443, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.rule.Covers(c.destination, c.ip_protocol, c.port), c.covers) << c.description;
  }
}

TEST(PortRuleTest, Overlaps) {
  struct Case {
    std::string description;
    PortRule a;
    PortRule b;
    bool overlaps;
  };
  const std::vector<Case> cases = {
      {"same rule", Rule(kVip, 80, 80, Protocol::kTcp), Rule(kVip, 80, 80, Protocol::kTcp), true},
      {"ranges share one port", Rule(kVip, 1, 80, Protocol::kTcp),
       Rule(kVip, 80, 90, Protocol::kTcp), true},
      {"adjacent ranges", Rule(kVip, 1, 79, Protocol::kTcp), Rule(kVip, 80, 90, Protocol::kTcp),
       false},
      {"one range inside the other", Rule(kVip, 0, 65535, Protocol::kTcp),
       Rule(kVip, 443, 443, Protocol::kTcp), true},
      {"tcp and udp", Rule(kVip, 53, 53, Protocol::kTcp), Rule(kVip, 53, 53, Protocol::kUdp),
       false},
      {"both and udp", Rule(kVip, 53, 53, Protocol::kBoth), Rule(kVip, 53, 53, Protocol::kUdp),
       true},
      {"tcp and both", Rule(kVip, 53, 53, Protocol::kTcp), Rule(kVip, 53, 53, Protocol::kBoth),
       true},
      {"different VIPs", Rule(kVip, 80, 80, Protocol::kTcp),
       Rule(kOtherVip, 80, 80, Protocol::kTcp), false},
      {"VIP rule and all rule: the specific one wins, no overlap",
       Rule(kVip, 80, 80, Protocol::kTcp), Rule(std::nullopt, 80, 80, Protocol::kTcp), false},
      {"two all rules", Rule(std::nullopt, 0, 100, Protocol::kBoth),
       Rule(std::nullopt, 100, 200, Protocol::kTcp), true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.a.Overlaps(c.b), c.overlaps) << c.description;
    EXPECT_EQ(c.b.Overlaps(c.a), c.overlaps) << c.description << " (reversed)";
  }
}

TEST(PortRuleTest, Describe) {
  struct Case {
    PortRule rule;
    std::string text;
  };
  const std::vector<Case> cases = {
      {Rule(kVip, 80, 80, Protocol::kTcp), "198.18.0.100:80-80/tcp"},
      {Rule(std::nullopt, 0, 65535, Protocol::kBoth), "all:0-65535/both"},
      {Rule(kVip6, 53, 54, Protocol::kUdp), "[2001:2::100]:53-54/udp"},
  };
  for (const Case& c : cases) EXPECT_EQ(c.rule.Describe(), c.text);
}

TEST(PortRuleTest, Names) {
  EXPECT_EQ(ProtocolName(Protocol::kTcp), "tcp");
  EXPECT_EQ(ProtocolName(Protocol::kUdp), "udp");
  EXPECT_EQ(ProtocolName(Protocol::kBoth), "both");
  EXPECT_EQ(FilteringModeName(FilteringMode::kMultipleHost), "multiple");
  EXPECT_EQ(FilteringModeName(FilteringMode::kSingleHost), "single");
  EXPECT_EQ(FilteringModeName(FilteringMode::kDisabled), "disabled");
  EXPECT_EQ(AffinityName(Affinity::kNone), "none");
  EXPECT_EQ(AffinityName(Affinity::kSingle), "single");
  EXPECT_EQ(AffinityName(Affinity::kNetwork), "network");
}

}  // namespace
}  // namespace nlb
