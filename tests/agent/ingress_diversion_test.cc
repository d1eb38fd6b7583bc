// The nftables scripts of the diversion and of the kernel fast path, as text: the drops of raw VIP
// traffic, and per port rule the accept line that must hash exactly as Decide() does (key, seed,
// bucket count, unfragmented packets only) followed by the drop that stops a wider rule from
// taking the rest. Applying them is tested on real hosts (tests/integration/datapath_*).
#include "agent/ingress_diversion.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/packet_builder.h"
#include "tests/support/port_rules.h"

namespace nlb::agent {
namespace {

using test::Ip;

DiversionOptions Options() {
  DiversionOptions o;
  o.cluster_name = "web-1";
  o.interface = "eth0";
  o.vips = {Ip("198.18.0.100"), Ip("198.18.0.101"), Ip("2001:2::100")};
  return o;
}

using test::MakeRule;

std::vector<std::string> Lines(const std::string& script) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < script.size()) {
    const size_t end = script.find('\n', at);
    lines.push_back(script.substr(at, end - at));
    at = end == std::string::npos ? script.size() : end + 1;
  }
  return lines;
}

const std::string kAdd = "add rule netdev nlb_web_1_eth0 ingress ";
const std::vector<std::string> kDrops = {
    kAdd + "ip daddr { 198.18.0.100, 198.18.0.101 } drop",
    kAdd + "arp operation request arp daddr ip { 198.18.0.100, 198.18.0.101 } drop",
    kAdd + "ip6 daddr { 2001:2::100 } drop",
};

TEST(IngressDiversionTest, InstallScriptDropsVipTrafficAndDeclaresTheCounter) {
  const std::string s = IngressDiversion::Script(Options());
  EXPECT_NE(s.find("counter fast_path { }"), std::string::npos) << s;
  EXPECT_NE(s.find("type filter hook ingress device \"eth0\" priority -500"), std::string::npos);
  EXPECT_NE(s.find("    ip daddr { 198.18.0.100, 198.18.0.101 } drop\n"), std::string::npos);
  EXPECT_NE(s.find("    ip6 daddr { 2001:2::100 } drop\n"), std::string::npos);
  EXPECT_EQ(s.find("egress"), std::string::npos);
}

TEST(IngressDiversionTest, FastPathScriptPerRuleKind) {
  BucketSet some;
  for (uint32_t b : {0u, 1u, 2u, 9u, 16383u}) some.Add(b);
  const std::string tail = " counter name fast_path meta pkttype set host accept";
  struct Case {
    const char* what;
    FastPathRule fast;
    std::vector<std::string> lines;  // before the drops
  };
  const std::vector<Case> cases = {
      {"affinity none, one VIP, one port",
       {MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp, FilteringMode::kMultipleHost,
             Affinity::kNone),
        false, some},
       {kAdd + "ip daddr 198.18.0.100 ip frag-off & 0x3fff == 0 meta l4proto tcp th dport 80 "
               "jhash ip saddr . th sport mod 16384 seed 0x4e4c4231 { 0, 1, 2, 9, 16383 }" + tail,
        kAdd + "ip daddr 198.18.0.100 meta l4proto tcp th dport 80 drop"}},
      {"affinity single, every VIP of both families, both protocols",
       {MakeRule(std::nullopt, 0, 65535, Protocol::kBoth, FilteringMode::kMultipleHost,
             Affinity::kSingle),
        false, some},
       {kAdd + "ip daddr { 198.18.0.100, 198.18.0.101 } ip frag-off & 0x3fff == 0 "
               "meta l4proto { tcp, udp } th dport 0-65535 "
               "jhash ip saddr mod 16384 seed 0x4e4c4231 { 0, 1, 2, 9, 16383 }" + tail,
        kAdd + "ip daddr { 198.18.0.100, 198.18.0.101 } meta l4proto { tcp, udp } "
               "th dport 0-65535 drop",
        kAdd + "ip6 daddr { 2001:2::100 } exthdr frag missing meta l4proto { tcp, udp } "
               "th dport 0-65535 jhash ip6 saddr mod 16384 seed 0x4e4c4231 { 0, 1, 2, 9, 16383 }" +
            tail,
        kAdd + "ip6 daddr { 2001:2::100 } meta l4proto { tcp, udp } th dport 0-65535 drop"}},
      {"single-host rule owned here: no hash",
       {MakeRule(Ip("2001:2::100"), 53, 53, Protocol::kUdp, FilteringMode::kSingleHost,
             Affinity::kSingle),
        true, {}},
       {kAdd + "ip6 daddr 2001:2::100 exthdr frag missing meta l4proto udp th dport 53" + tail,
        kAdd + "ip6 daddr 2001:2::100 meta l4proto udp th dport 53 drop"}},
      {"nothing delivered in the kernel: no line", {MakeRule(Ip("198.18.0.100"), 80, 80,
       Protocol::kTcp, FilteringMode::kMultipleHost, Affinity::kNone), false, {}}, {}},
      {"network affinity is never the kernel's", {MakeRule(Ip("198.18.0.100"), 80, 80,
       Protocol::kTcp, FilteringMode::kMultipleHost, Affinity::kNetwork), false, some}, {}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> want = {"flush chain netdev nlb_web_1_eth0 ingress"};
    want.insert(want.end(), c.lines.begin(), c.lines.end());
    want.insert(want.end(), kDrops.begin(), kDrops.end());
    EXPECT_EQ(Lines(IngressDiversion::FastPathScript(Options(), {c.fast})), want) << c.what;
  }
}

// A rule without a fast path that comes before one with a fast path keeps its drop: otherwise
// its packets would fall through to the wider rule's accept, hashed by the wrong rule.
TEST(IngressDiversionTest, EarlierRulesKeepTheirDrops) {
  BucketSet some;
  some.Add(5);
  const FastPathRule specific{MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp,
                                   FilteringMode::kMultipleHost, Affinity::kNetwork),
                              false, some};
  const FastPathRule all{MakeRule(std::nullopt, 0, 65535, Protocol::kTcp,
                              FilteringMode::kMultipleHost, Affinity::kNone),
                         false, some};
  const auto lines = Lines(IngressDiversion::FastPathScript(Options(), {specific, all}));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[1], kAdd + "ip daddr 198.18.0.100 meta l4proto tcp th dport 80 drop");
  EXPECT_NE(lines[2].find("jhash ip saddr . th sport"), std::string::npos) << lines[2];
  // And a rule without a fast path after the last one with it adds nothing.
  const auto only = Lines(IngressDiversion::FastPathScript(Options(), {all, specific}));
  EXPECT_EQ(only.size(), 1u + 4u + kDrops.size());  // flush, 2 families x 2 lines, drops
}


// A cut: per rule with buckets leaving, a drop of them inserted at the head of the chain (no
// fragment condition: the kernel delivers no fragment anyway); nothing for rules without any.
TEST(IngressDiversionTest, CutScriptDropsOnlyTheLeavingBuckets) {
  BucketSet leaving;
  for (uint32_t b : {4u, 5u}) leaving.Add(b);
  const FastPathRule web{MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp,
                              FilteringMode::kMultipleHost, Affinity::kNone),
                         false, leaving};
  const FastPathRule quiet{MakeRule(Ip("198.18.0.101"), 25, 25, Protocol::kTcp,
                                FilteringMode::kMultipleHost, Affinity::kNone),
                           false, {}};
  const FastPathRule single{MakeRule(Ip("2001:2::100"), 53, 53, Protocol::kUdp,
                                 FilteringMode::kSingleHost, Affinity::kSingle),
                            true, {}};
  const std::string insert = "insert rule netdev nlb_web_1_eth0 ingress ";
  EXPECT_EQ(Lines(IngressDiversion::CutScript(Options(), {web, quiet, single})),
            (std::vector<std::string>{
                insert + "ip daddr 198.18.0.100 meta l4proto tcp th dport 80 jhash ip saddr . "
                         "th sport mod 16384 seed 0x4e4c4231 { 4, 5 } drop",
                insert + "ip6 daddr 2001:2::100 meta l4proto udp th dport 53 drop"}));
  EXPECT_EQ(IngressDiversion::CutScript(Options(), {quiet}), "");
}

}  // namespace
}  // namespace nlb::agent
