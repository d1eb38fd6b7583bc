// The nftables scripts of nlbd's table, as text: the diversion's drops of raw VIP traffic
// (VLAN-tagged first), the unicast egress rewrite, and nothing that delivers a packet. Applying
// them is tested on real hosts (tests/integration/datapath_*, kernel_state_test).
#include "agent/nft_scripts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/packet_builder.h"

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

// Unicast mode: the egress chain's rewrite of the cluster MAC to host 1's masked source.
DiversionOptions Unicast() {
  DiversionOptions o = Options();
  o.cluster_mac = MacAddress{{0x02, 0xbf, 198, 18, 0, 100}};
  o.masked_source = MacAddress{{0x02, 0x01, 198, 18, 0, 100}};
  return o;
}

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

std::vector<std::string> Matching(const std::string& script, const std::string& word) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(script)) {
    if (line.find(word) != std::string::npos) out.push_back(line);
  }
  return out;
}

const std::string kAdd = "add rule netdev nlb_web_1_eth0 ingress ";

TEST(NftScriptsTest, TableScriptReplacesTheTableAndDropsEveryVipFrame) {
  const std::string s = NftTableScript(Options());
  const auto lines = Lines(s);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[0], "add table netdev nlb_web_1_eth0");
  EXPECT_EQ(lines[1], "delete table netdev nlb_web_1_eth0");
  EXPECT_EQ(lines[2], "add table netdev nlb_web_1_eth0");
  EXPECT_NE(s.find("type filter hook ingress device \"eth0\" priority -500"), std::string::npos);
  // VLAN-tagged frames first: `ip daddr` does not see past a tag left in the frame.
  EXPECT_EQ(Matching(s, kAdd), (std::vector<std::string>{
                                   kAdd + "ether type 8021q ip daddr { 198.18.0.100, "
                                          "198.18.0.101 } drop",
                                   kAdd + "ether type 8021q ip6 daddr { 2001:2::100 } drop",
                                   kAdd + "ip daddr { 198.18.0.100, 198.18.0.101 } drop",
                                   kAdd + "arp operation request arp daddr ip { 198.18.0.100, "
                                          "198.18.0.101 } drop",
                                   kAdd + "ip6 daddr { 2001:2::100 } drop",
                               }));
  EXPECT_EQ(s.find("egress"), std::string::npos);
}

TEST(NftScriptsTest, NothingInTheTableDelivers) {
  const DiversionOptions o = Unicast();
  const std::string s = NftTableScript(o);
  // The chains' policy is accept (traffic not for a VIP is the stack's); no rule accepts.
  for (const std::string& line : Matching(s, "add rule")) {
    for (const char* word : {"accept", "pkttype", "jhash", "counter", "@"}) {
      EXPECT_EQ(line.find(word), std::string::npos) << line;
    }
  }
  for (const char* word : {"add set", "add counter", "timeout"}) {
    EXPECT_EQ(s.find(word), std::string::npos) << word;
  }
}

TEST(NftScriptsTest, WithoutVipsTheIngressChainIsEmpty) {
  DiversionOptions o = Options();
  o.vips.clear();  // the BPF back end: the program decides, a drop here would undo it
  const std::string s = NftTableScript(o);
  EXPECT_TRUE(Matching(s, kAdd).empty()) << s;
  EXPECT_NE(s.find("add chain netdev nlb_web_1_eth0 ingress"), std::string::npos);
}

TEST(NftScriptsTest, UnicastAddsTheEgressRewrite) {
  const DiversionOptions o = Unicast();
  const std::string s = NftTableScript(o);
  EXPECT_NE(s.find("egress ether saddr 02:bf:c6:12:00:64 ether saddr set 02:01:c6:12:00:64"),
            std::string::npos)
      << s;
  EXPECT_NE(NftListChainsScript(o).find("egress"), std::string::npos);
  EXPECT_EQ(NftListChainsScript(Options()).find("egress"), std::string::npos);
}

}  // namespace
}  // namespace nlb::agent
