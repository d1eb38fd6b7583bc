// ClusterDigest: the same meaning gives the same digest whatever the layout; any change of
// meaning in the cluster section gives another; the canonical text and its hash are pinned.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb {
namespace {

// sha256 of the canonical text in CanonicalTextIsPinned, computed with sha256sum.
constexpr const char* kPinnedDigestHex =
    "a5f6b0b8e90bb4bb5858a8ef21164449dd0150f8622c5ec6b6d129b72be984a4";

constexpr const char* kBase = R"y(
cluster:
  name: web
  vips: [198.18.0.100, "2001:2::100"]
  heartbeat:
    key_file: /etc/nlb/cluster.key
  port_rules:
    - name: http
      vip: 198.18.0.100
      ports: 80
      protocol: tcp
    - name: dns
      ports: 53
      protocol: udp
      affinity: none
host:
  id: 1
  interface: eth0
  dedicated_address: 198.18.1.11
)y";

Digest DigestOf(const std::string& yaml) {
  Result<NodeConfig> config = ParseConfig(yaml, "t.yaml");
  EXPECT_TRUE(config.ok()) << config.status().message() << "\n" << yaml;
  return config.ok() ? ClusterDigest(config->cluster) : Digest{};
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

struct DigestCase {
  const char* description;
  std::string yaml;
};

TEST(ClusterDigest, SameMeaningSameDigest) {
  const DigestCase same[] = {
      {"comments and blank lines",
       Replace(Replace(kBase, "cluster:\n", "# the web farm\ncluster:   # shared\n\n"),
               "      ports: 80\n", "      ports: 80   # plain http\n")},
      {"flow style, reordered keys and quoting",
       "host: {dedicated_address: 198.18.1.11, interface: eth0, id: 1}\n"
       "cluster:\n"
       "  port_rules:\n"
       "    - {affinity: none, protocol: udp, ports: \"53\", name: dns}\n"
       "    - {protocol: tcp, ports: 80-80, vip: \"198.18.0.100\", name: \"http\"}\n"
       "  vips:\n    - '198.18.0.100'\n    - 2001:0002:0:0::100\n"
       "  name: 'web'\n"},
      {"defaults written out",
       Replace(kBase, "  heartbeat:\n",
               "  mac_mode: multicast\n  control: {remote: true, port: 2505}\n"
               "  heartbeat:\n    period_ms: 1000\n    tolerance: 5\n    port: 2504\n")},
      {"key file elsewhere", Replace(kBase, "/etc/nlb/cluster.key", "/srv/keys/web.key")},
      {"another host's section",
       Replace(Replace(Replace(kBase, "id: 1", "id: 2"), "198.18.1.11", "198.18.1.12"), "eth0",
               "ens3") + "  initial_state: stopped\n  kernel_fast_path: false\n"
                   "  rules:\n    - {rule: http, weight: 10}\n"},
      {"ipv6_prefix without network affinity",
       Replace(kBase, "      affinity: none\n", "      affinity: none\n      ipv6_prefix: 48\n")},
  };
  const Digest base = DigestOf(kBase);
  for (const DigestCase& c : same) {
    EXPECT_EQ(DigestHex(DigestOf(c.yaml)), DigestHex(base)) << c.description;
  }
}

TEST(ClusterDigest, AnySemanticChangeChangesIt) {
  const DigestCase changed[] = {
      {"name", Replace(kBase, "name: web", "name: www")},
      {"a VIP", Replace(kBase, "\"2001:2::100\"]", "\"2001:2::101\"]")},
      {"VIP order (vips[0] is the primary)",
       Replace(kBase, "[198.18.0.100, \"2001:2::100\"]", "[\"2001:2::100\", 198.18.0.100]")},
      {"an added VIP", Replace(kBase, "vips: [", "vips: [198.18.0.101, ")},
      {"mac_mode", Replace(kBase, "  heartbeat:\n", "  mac_mode: unicast\n  heartbeat:\n")},
      {"period", Replace(kBase, "  heartbeat:\n", "  heartbeat:\n    period_ms: 500\n")},
      {"tolerance", Replace(kBase, "  heartbeat:\n", "  heartbeat:\n    tolerance: 6\n")},
      {"heartbeat port", Replace(kBase, "  heartbeat:\n", "  heartbeat:\n    port: 2600\n")},
      {"remote control", Replace(kBase, "  heartbeat:\n", "  control: {remote: false}\n  heartbeat:\n")},
      {"control port", Replace(kBase, "  heartbeat:\n", "  control: {port: 2600}\n  heartbeat:\n")},
      {"rule name", Replace(kBase, "name: dns", "name: resolver")},
      {"rule vip", Replace(kBase, "      vip: 198.18.0.100\n", "")},
      {"first port", Replace(kBase, "ports: 80\n", "ports: 79-80\n")},
      {"last port", Replace(kBase, "ports: 80\n", "ports: 80-81\n")},
      {"protocol", Replace(kBase, "protocol: tcp", "protocol: both")},
      {"mode", Replace(kBase, "      protocol: tcp\n", "      protocol: tcp\n      mode: single\n")},
      {"affinity", Replace(kBase, "affinity: none", "affinity: single")},
      {"network affinity prefix",
       Replace(kBase, "affinity: none", "affinity: network\n      ipv6_prefix: 48")},
      {"a rule removed", Replace(kBase, "    - name: dns\n      ports: 53\n      protocol: udp\n"
                                        "      affinity: none\n", "")},
  };
  const std::string base = DigestHex(DigestOf(kBase));
  for (const DigestCase& c : changed) {
    EXPECT_NE(DigestHex(DigestOf(c.yaml)), base) << c.description;
  }
  // Network affinity with its default prefix differs from network affinity with /48.
  EXPECT_NE(DigestHex(DigestOf(Replace(kBase, "affinity: none", "affinity: network"))),
            DigestHex(DigestOf(changed[17].yaml)));
}

TEST(ClusterDigest, CanonicalTextIsPinned) {
  Result<NodeConfig> config = ParseConfig(kBase, "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const std::string expected =
      "nlb-cluster-digest v1\n"
      "assignment=2\n"
      "name=web\n"
      "vip=198.18.0.100\n"
      "vip=2001:2::100\n"
      "mac_mode=multicast\n"
      "heartbeat.period_ms=1000\n"
      "heartbeat.tolerance=5\n"
      "heartbeat.port=2504\n"
      "control.remote=true\n"
      "control.port=2505\n"
      "rule=http|198.18.0.100|80-80|tcp|multiple|single|-\n"
      "rule=dns|all|53-53|udp|multiple|none|-\n";
  EXPECT_EQ(CanonicalClusterText(config->cluster), expected);
  EXPECT_EQ(DigestHex(ClusterDigest(config->cluster)), kPinnedDigestHex);
}

TEST(ClusterDigest, HandBuiltRulesInAnyOrderDigestAlike) {
  Result<NodeConfig> config = ParseConfig(kBase, "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ClusterConfig reversed = config->cluster;
  std::reverse(reversed.port_rules.begin(), reversed.port_rules.end());
  EXPECT_EQ(ClusterDigest(reversed), ClusterDigest(config->cluster));
}

TEST(DigestHex, IsLowerCaseHexOfEveryByte) {
  Digest d{};
  d[0] = 0x0f;
  d[1] = 0xa0;
  d[31] = 0xff;
  EXPECT_EQ(DigestHex(d), "0fa0" + std::string(58, '0') + "ff");
}

}  // namespace
}  // namespace nlb
