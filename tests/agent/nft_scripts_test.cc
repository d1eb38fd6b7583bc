// The nftables scripts of the diversion and of the kernel fast path, as text: the drops of raw VIP
// traffic; per port rule the accept line that must hash exactly as Decide() does (key, seed,
// bucket count, unfragmented packets only), gated by the kernel lease and the rule's set, then
// the drop that stops a wider rule from taking the rest; element changes between two shares; the
// lease. Applying them is tested on real hosts (tests/integration/datapath_*, kernel_state_test).
#include "agent/nft_scripts.h"

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
// First in the chain: VLAN-tagged frames to a VIP are no one's (docs/data-path.md).
const std::vector<std::string> kVlanDrops = {
    kAdd + "ether type 8021q ip daddr { 198.18.0.100, 198.18.0.101 } drop",
    kAdd + "ether type 8021q ip6 daddr { 2001:2::100 } drop",
};

std::vector<std::string> Matching(const std::string& script, const std::string& word) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(script)) {
    if (line.find(word) != std::string::npos) out.push_back(line);
  }
  return out;
}

TEST(NftScriptsTest, TableScriptReplacesTheTableAndDeclaresCounterLeaseAndChain) {
  const std::string s = NftTableScript(Options(), {}, {});
  const auto lines = Lines(s);
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[0], "add table netdev nlb_web_1_eth0");
  EXPECT_EQ(lines[1], "delete table netdev nlb_web_1_eth0");
  EXPECT_NE(s.find("add counter netdev nlb_web_1_eth0 fast_path\n"), std::string::npos);
  EXPECT_NE(s.find("add set netdev nlb_web_1_eth0 lease { type ifname; flags timeout; }"),
            std::string::npos);
  EXPECT_NE(s.find("type filter hook ingress device \"eth0\" priority -500"), std::string::npos);
  for (const std::string& drop : kDrops) EXPECT_NE(s.find(drop + "\n"), std::string::npos) << drop;
  EXPECT_EQ(s.find("egress"), std::string::npos);
}

TEST(NftScriptsTest, UnicastAddsTheEgressRewrite) {
  DiversionOptions o = Options();
  o.cluster_mac = MacAddress{{0x02, 0xbf, 198, 18, 0, 100}};
  o.masked_source = MacAddress{{0x02, 0x01, 198, 18, 0, 100}};
  const std::string s = NftTableScript(o, {}, {});
  EXPECT_NE(s.find("egress ether saddr 02:bf:c6:12:00:64 ether saddr set 02:01:c6:12:00:64"),
            std::string::npos)
      << s;
  EXPECT_NE(NftListChainsScript(o).find("egress"), std::string::npos);
}

TEST(NftScriptsTest, ChainLinesPerRuleKind) {
  const std::string seed = " mod 16384 seed 0x4e4c4231";
  const std::string tail = " counter name fast_path meta pkttype set host accept";
  struct Case {
    const char* what;
    PortRule rule;
    std::vector<std::string> want;  // the rule's lines, before the drops
  } cases[] = {
      {"affinity none hashes address and port, through set fp0",
       MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp, FilteringMode::kMultipleHost,
                Affinity::kNone),
       {kAdd +
            "iifname @lease ip daddr 198.18.0.100 ip frag-off & 0x3fff == 0 meta l4proto tcp "
            "th dport 80 jhash ip saddr . th sport" +
            seed + " @fp0" + tail,
        kAdd + "ip daddr 198.18.0.100 meta l4proto tcp th dport 80 drop"}},
      {"affinity single hashes the address; IPv6 unfragmented",
       MakeRule(Ip("2001:2::100"), 53, 54, Protocol::kUdp, FilteringMode::kMultipleHost,
                Affinity::kSingle),
       {kAdd +
            "iifname @lease ip6 daddr 2001:2::100 exthdr frag missing meta l4proto udp th "
            "dport 53-54 jhash ip6 saddr" +
            seed + " @fp0" + tail,
        kAdd + "ip6 daddr 2001:2::100 meta l4proto udp th dport 53-54 drop"}},
      {"single host: the whole rule, through set fw0",
       MakeRule(Ip("198.18.0.101"), 25, 25, Protocol::kTcp, FilteringMode::kSingleHost),
       {kAdd +
            "iifname @lease iifname @fw0 ip daddr 198.18.0.101 ip frag-off & 0x3fff == 0 "
            "meta l4proto tcp th dport 25" +
            tail,
        kAdd + "ip daddr 198.18.0.101 meta l4proto tcp th dport 25 drop"}},
      {"network affinity: no accept line, the kernel cannot hash a /24",
       MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp, FilteringMode::kMultipleHost,
                Affinity::kNetwork),
       {}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> want = kVlanDrops;
    for (const std::string& line : c.want) want.push_back(line);
    for (const std::string& d : kDrops) want.push_back(d);
    std::vector<std::string> got = Matching(NftTableScript(Options(), {c.rule}, {}), kAdd);
    EXPECT_EQ(got, want) << c.what;
  }
}

TEST(NftScriptsTest, TableScriptCarriesTheInstalledBuckets) {
  const PortRule web = MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp,
                                FilteringMode::kMultipleHost, Affinity::kNone, "web");
  FastPathRule fast;
  fast.rule = web;
  fast.buckets.Add(3);
  fast.buckets.Add(16383);
  const std::string s = NftTableScript(Options(), {web}, {fast});
  EXPECT_NE(s.find("add set netdev nlb_web_1_eth0 fp0 { typeof numgen inc mod 16384; }"),
            std::string::npos);
  EXPECT_NE(s.find("add element netdev nlb_web_1_eth0 fp0 { 3, 16383 }"), std::string::npos) << s;
}

TEST(NftScriptsTest, BucketsScriptDeletesBeforeItAdds) {
  const PortRule web = MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp,
                                FilteringMode::kMultipleHost, Affinity::kNone, "web");
  const PortRule mail = MakeRule(Ip("198.18.0.101"), 25, 25, Protocol::kTcp,
                                 FilteringMode::kSingleHost, Affinity::kNone, "mail");
  FastPathRule from_web{web, false, {}}, to_web{web, false, {}};
  for (uint32_t b : {1u, 2u, 3u}) from_web.buckets.Add(b);
  for (uint32_t b : {3u, 4u}) to_web.buckets.Add(b);
  const FastPathRule from_mail{mail, true, {}}, to_mail{mail, false, {}};
  EXPECT_EQ(Lines(NftBucketsScript(Options(), {from_web, from_mail}, {to_web, to_mail})),
            (std::vector<std::string>{
                "delete element netdev nlb_web_1_eth0 fp0 { 1, 2 }",
                "delete element netdev nlb_web_1_eth0 fw1 { \"eth0\" }",
                "add element netdev nlb_web_1_eth0 fp0 { 4 }",
            }));
  EXPECT_EQ(NftBucketsScript(Options(), {to_web}, {to_web}), "");
}

TEST(NftScriptsTest, AlignedToRulesMatchesByRule) {
  const PortRule a = MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp,
                              FilteringMode::kMultipleHost, Affinity::kNone, "a");
  const PortRule b = MakeRule(Ip("198.18.0.100"), 81, 81, Protocol::kTcp,
                              FilteringMode::kMultipleHost, Affinity::kNone, "b");
  FastPathRule fb{b, false, {}};
  fb.buckets.Add(7);
  const auto aligned = AlignedToRules({a, b}, {fb});
  ASSERT_EQ(aligned.size(), 2u);
  EXPECT_TRUE(aligned[0].Empty());
  EXPECT_EQ(aligned[0].rule, a);
  EXPECT_TRUE(aligned[1].buckets.Contains(7));
}

TEST(NftScriptsTest, RulesScriptKeepsTableCounterAndLease) {
  const PortRule web = MakeRule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp,
                                FilteringMode::kMultipleHost, Affinity::kNone, "web");
  const std::string s = NftRulesScript(Options(), 2, {web}, {});
  EXPECT_EQ(Lines(s)[0], "flush chain netdev nlb_web_1_eth0 ingress");
  EXPECT_EQ(s.find("delete table"), std::string::npos);
  EXPECT_EQ(s.find("counter netdev"), std::string::npos);
  EXPECT_EQ(s.find("lease {"), std::string::npos);
  EXPECT_NE(s.find("delete set netdev nlb_web_1_eth0 fp1\n"), std::string::npos);
  EXPECT_NE(s.find("delete set netdev nlb_web_1_eth0 fw1\n"), std::string::npos);
}

TEST(NftScriptsTest, LeaseScript) {
  EXPECT_EQ(NftLeaseScript(Options(), std::chrono::milliseconds(250)),
            "flush set netdev nlb_web_1_eth0 lease\n"
            "add element netdev nlb_web_1_eth0 lease { \"eth0\" timeout 250ms }\n");
  EXPECT_EQ(NftLeaseScript(Options(), std::chrono::milliseconds(0)),
            "flush set netdev nlb_web_1_eth0 lease\n");
}

}  // namespace
}  // namespace nlb::agent
