// ParseConfig: every class of error is reported with file:line:column, field path and what would
// be valid; omitted fields take their documented defaults; rules come back in canonical order.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>

#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb {
namespace {

struct ErrorCase {
  const char* description;
  const char* yaml;
  const char* expected;  // a substring of the error message
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.description; }

// A valid host section to append to cluster sections under test.
constexpr const char* kHost = R"y(
host:
  id: 1
  interface: eth0
  dedicated_address: 198.18.1.11
)y";

std::string WithHost(const char* cluster) { return std::string(cluster) + kHost; }

const ErrorCase kErrorCases[] = {
    // The file as a whole.
    {"empty file", "", "t.yaml:1:1: the configuration is empty"},
    {"only comments", "# nothing here\n\n", "t.yaml:1:1: the configuration is empty"},
    {"syntax error: unclosed flow list", "cluster:\n  vips: [198.18.0.100\n  name: web\nhost: {}\n",
     "t.yaml:3:7: YAML syntax error: end of sequence flow not found"},
    {"syntax error: bad indentation", "cluster:\n  name: web\n   vips: x\n",
     "t.yaml:3:8: YAML syntax error: illegal map value"},
    {"top level is a list", "- cluster\n- host\n", "t.yaml:1:1: expected a mapping"},
    {"two documents", "cluster: {}\n---\nhost: {}\n",
     "t.yaml:2:1: found more than one YAML document"},
    {"unknown top-level key with suggestion", "clustr:\n  name: web\n",
     "t.yaml:1:1: clustr: unknown field (did you mean 'cluster'?)"},
    {"unknown key without a near name", "cluster: {}\nhost: {}\nfrobnicate: 1\n",
     "t.yaml:3:1: frobnicate: unknown field; valid fields here: cluster, host"},
    {"missing cluster", "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n",
     "t.yaml:1:1: cluster: required field is missing"},
    {"missing host", "cluster:\n  name: web\n  vips: [198.18.0.100]\n# no host section\n",
     "t.yaml:1:1: host: required field is missing"},
    {"duplicate key", "cluster:\n  name: web\n  name: www\n  vips: [198.18.0.100]\n",
     "t.yaml:3:3: cluster.name: given twice (first at line 2)"},

    // cluster.
    {"missing cluster.name", "cluster:\n  vips: [198.18.0.100]\n",
     "t.yaml:2:3: cluster.name: required field is missing"},
    {"empty cluster.name value", "cluster:\n  name:\n  vips: [198.18.0.100]\n",
     "cluster.name: has no value; expected a string"},
    {"cluster.name with capitals", "cluster:\n  name: Web\n  vips: [198.18.0.100]\n",
     "t.yaml:2:9: cluster.name: 'Web' is not a cluster name (1-32 of a-z, 0-9 and -)"},
    {"cluster.name too long",
     "cluster:\n  name: abcdefghijklmnopqrstuvwxyz0123456\n  vips: [198.18.0.100]\n",
     "is not a cluster name (1-32"},
    {"cluster.name is a list", "cluster:\n  name: [a, b]\n  vips: [198.18.0.100]\n",
     "t.yaml:2:9: cluster.name: expected a string, found a list"},
    {"missing vips", "cluster:\n  name: web\n", "t.yaml:2:3: cluster.vips: required field"},
    {"vips is a scalar", "cluster:\n  name: web\n  vips: 198.18.0.100\n",
     "t.yaml:3:9: cluster.vips: expected a list of at least one address"},
    {"vips is empty", "cluster:\n  name: web\n  vips: []\n",
     "t.yaml:3:9: cluster.vips: expected a list of at least one address"},
    {"vip not an address", "cluster:\n  name: web\n  vips: [198.18.0.300]\n",
     "t.yaml:3:10: cluster.vips[0]: '198.18.0.300' is not an IPv4 or IPv6 address"},
    {"vip with an escaped NUL", "cluster:\n  name: web\n  vips: [\"198.18.0.1\\x00\"]\n",
     "t.yaml:3:10: cluster.vips[0]: contains a NUL character; expected an IPv4 or IPv6 address"},
    {"vip is multicast", "cluster:\n  name: web\n  vips: [198.18.0.1, 224.0.0.1]\n",
     "t.yaml:3:22: cluster.vips[1]: 224.0.0.1 is not a unicast address"},
    {"vip is unspecified IPv6", "cluster:\n  name: web\n  vips: [\"::\"]\n",
     "cluster.vips[0]: :: is not a unicast address"},
    {"duplicate vips written differently",
     "cluster:\n  name: web\n  vips:\n    - 2001:2::100\n    - 2001:2:0:0::100\n",
     "t.yaml:5:7: cluster.vips[1]: 2001:2::100 is listed twice (first at line 4)"},
    {"bad mac_mode with suggestion",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  mac_mode: multicat\n",
     "t.yaml:4:13: cluster.mac_mode: 'multicat' is not valid; expected one of multicast | unicast "
     "| igmp (did you mean 'multicast'?)"},
    {"heartbeat is a scalar", "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat: 5\n",
     "t.yaml:4:14: cluster.heartbeat: expected a mapping (key: value lines), found '5'"},
    {"period_ms too small",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat:\n    period_ms: 50\n",
     "t.yaml:5:16: cluster.heartbeat.period_ms: 50 is not a period in milliseconds (100-10000)"},
    {"period_ms not a number",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat:\n    period_ms: 1s\n",
     "cluster.heartbeat.period_ms: '1s' is not a whole number; expected a period in "
     "milliseconds (100-10000)"},
    {"negative tolerance",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat:\n    tolerance: -3\n",
     "cluster.heartbeat.tolerance: '-3' is not a whole number"},
    {"tolerance too small",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat:\n    tolerance: 1\n",
     "t.yaml:5:16: cluster.heartbeat.tolerance: 1 is not a count of missed periods (2-100)"},
    {"huge number does not wrap",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat:\n    port: "
     "99999999999999999999\n",
     "cluster.heartbeat.port: 99999999999999999999 is not a port (1-65535)"},
    {"heartbeat port zero",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat:\n    port: 0\n",
     "t.yaml:5:11: cluster.heartbeat.port: 0 is not a port (1-65535)"},
    {"unknown heartbeat key",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat:\n    tolerence: 3\n",
     "t.yaml:5:5: cluster.heartbeat.tolerence: unknown field (did you mean 'tolerance'?)"},
    {"remote not a boolean",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  control:\n    remote: yes\n",
     "t.yaml:5:13: cluster.control.remote: 'yes' is not true or false"},

    // cluster.port_rules.
    {"port_rules is a mapping",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    http: 80\n",
     "t.yaml:5:5: cluster.port_rules: expected a list of rules"},
    {"rule is a scalar", "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules: [80]\n",
     "t.yaml:4:16: cluster.port_rules[0]: expected a mapping"},
    {"port out of range",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - ports: 70000\n",
     "t.yaml:5:14: cluster.port_rules[0].ports: 70000 is not a port (0-65535)"},
    {"range end out of range",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - ports: \"1-65536\"\n",
     "cluster.port_rules[0].ports: 65536 is not a port (0-65535)"},
    {"reversed range",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - ports: 8100-8000\n",
     "t.yaml:5:14: cluster.port_rules[0].ports: '8100-8000' is an empty range"},
    {"port is a word",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - ports: http\n",
     "cluster.port_rules[0].ports: 'http' is not a port or port range (like 80 or \"8000-8100\")"},
    {"port is a list",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - ports: [80, 443]\n",
     "cluster.port_rules[0].ports: expected a port or port range"},
    {"bad protocol",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - protocol: sctp\n",
     "t.yaml:5:17: cluster.port_rules[0].protocol: 'sctp' is not valid; expected one of tcp | "
     "udp | both"},
    {"bad mode",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - mode: multi\n",
     "cluster.port_rules[0].mode: 'multi' is not valid; expected one of multiple | single | "
     "disabled"},
    {"bad affinity",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - affinity: class-c\n",
     "cluster.port_rules[0].affinity: 'class-c' is not valid; expected one of none | single | "
     "network"},
    {"ipv6_prefix too long",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - ipv6_prefix: 129\n",
     "cluster.port_rules[0].ipv6_prefix: 129 is not an IPv6 prefix length (1-128)"},
    {"unknown rule key",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - protcol: tcp\n",
     "t.yaml:5:7: cluster.port_rules[0].protcol: unknown field (did you mean 'protocol'?)"},
    {"rule name with a space",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - name: my rule\n",
     "cluster.port_rules[0].name: 'my rule' is not a rule name"},
    {"rule vip not a cluster vip",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - vip: 198.18.0.7\n",
     "t.yaml:5:12: cluster.port_rules[0].vip: 198.18.0.7 is not one of cluster.vips; expected one "
     "of: all, 198.18.0.100"},
    {"duplicate rule names",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {name: web, ports: 80}\n    - {name: web, ports: 443}\n",
     "t.yaml:6:7: cluster.port_rules[1].name: rule name 'web' is already used by "
     "cluster.port_rules[0] (line 5)"},
    {"overlapping port ranges",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {name: low, ports: 0-1023}\n    - {name: http, ports: 80, protocol: tcp}\n",
     "t.yaml:6:7: cluster.port_rules[1]: rule 'http' (all:80-80/tcp) overlaps rule 'low' "
     "(all:0-1023/both, cluster.port_rules[0] at line 5)"},
    {"overlap of derived names on one VIP",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {vip: 198.18.0.100, ports: 80, protocol: udp}\n"
     "    - {vip: 198.18.0.100, ports: 70-90}\n",
     "rule '198.18.0.100:70-90/both' (198.18.0.100:70-90/both) overlaps rule "
     "'198.18.0.100:80-80/udp'"},

    // host.
    {"host is a list", "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost: [1]\n",
     "t.yaml:4:7: host: expected a mapping"},
    {"missing host.id",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n",
     "t.yaml:5:3: host.id: required field is missing"},
    {"missing interface and address",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n",
     "t.yaml:5:3: host.interface: required field is missing\n"
     "t.yaml:5:3: host.dedicated_address: required field is missing"},
    {"host.id zero",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 0\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n",
     "t.yaml:5:7: host.id: 0 is not a host id (1-256)"},
    {"host.id too large",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 257\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n",
     "host.id: 257 is not a host id (1-256)"},
    {"interface name too long",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n"
     "  interface: averyveryverylongname\n  dedicated_address: 198.18.1.1\n",
     "t.yaml:6:14: host.interface: 'averyveryverylongname' is not a Linux interface name"},
    {"dedicated address is a VIP",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n  interface: eth0\n"
     "  dedicated_address: 198.18.0.100\n",
     "t.yaml:7:22: host.dedicated_address: 198.18.0.100 is one of cluster.vips"},
    {"bad initial_state",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n  initial_state: running\n",
     "t.yaml:8:18: host.initial_state: 'running' is not valid; expected one of started | stopped"},
    {"kernel_fast_path not a boolean",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n  kernel_fast_path: sometimes\n",
     "t.yaml:8:21: host.kernel_fast_path"},
    {"data_path not a back end",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n  data_path: dpdk\n",
     "t.yaml:8:14: host.data_path: 'dpdk' is not valid; expected one of auto | bpf | capture | "
     "xdp"},
    {"data_path not a word",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n  data_path: [bpf]\n",
     "t.yaml:8:14: host.data_path"},
    {"override names an unknown rule",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - {name: http, ports: 80}\n"
     "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - rule: htp\n      weight: 10\n",
     "t.yaml:11:13: host.rules[0].rule: 'htp' is not a rule of cluster.port_rules (did you mean "
     "'http'?)"},
    {"override without rule",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n  interface: eth0\n"
     "  dedicated_address: 198.18.1.1\n  rules:\n    - weight: 10\n",
     "t.yaml:9:7: host.rules[0].rule: required field is missing"},
    {"weight above 100",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - {name: http, ports: 80}\n"
     "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - rule: http\n      weight: 101\n",
     "t.yaml:12:15: host.rules[0].weight: 101 is not a weight (0-100)"},
    {"priority above 32",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {name: smtp, ports: 25, mode: single}\n"
     "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - {rule: smtp, priority: 33}\n",
     "t.yaml:11:30: host.rules[0].priority: 33 is not a priority (1-32)"},
    {"priority zero",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {name: smtp, ports: 25, mode: single}\n"
     "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - {rule: smtp, priority: 0}\n",
     "host.rules[0].priority: 0 is not a priority (1-32)"},
    {"weight on a single-host rule",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {name: smtp, ports: 25, mode: single}\n"
     "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - {rule: smtp, weight: 20}\n",
     "host.rules[0].weight: weight applies only to multiple-host rules; rule 'smtp' is mode "
     "single"},
    {"priority on a multiple-host rule",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - {name: http, ports: 80}\n"
     "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - {rule: http, priority: 2}\n",
     "host.rules[0].priority: priority applies only to single-host rules; rule 'http' is mode "
     "multiple"},
    {"same rule overridden twice",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n    - {name: http, ports: 80}\n"
     "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - {rule: http, weight: 2}\n    - {rule: http, weight: 3}\n",
     "t.yaml:12:14: host.rules[1].rule: rule 'http' already has settings at line 11"},
    {"host id above 32 needs a priority for single-host rules",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {name: smtp, ports: 25, mode: single}\n"
     "host:\n  id: 40\n  interface: eth0\n  dedicated_address: 198.18.1.1\n",
     "host.rules: single-host rule 'smtp' needs a priority (1-32) for this host because host.id "
     "40 is above 32"},
    {"host id above 32 with an entry lacking priority",
     "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
     "    - {name: smtp, ports: 25, mode: single}\n"
     "host:\n  id: 40\n  interface: eth0\n  dedicated_address: 198.18.1.1\n  rules:\n"
     "    - rule: smtp\n",
     "t.yaml:11:7: host.rules[0].priority: required for single-host rule 'smtp' because host.id "
     "40 is above 32"},
};

class ConfigErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, ReportsLocatedError) {
  const ErrorCase& c = GetParam();
  // Cases that never mention the host section get a valid one appended, so that each shows the
  // one error it is about.
  std::string yaml = c.yaml;
  if (yaml.find("host") == std::string::npos && yaml.find("cluster:") == 0) yaml = WithHost(c.yaml);
  Result<NodeConfig> config = ParseConfig(yaml, "t.yaml");
  ASSERT_FALSE(config.ok()) << c.description;
  EXPECT_EQ(config.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
      << c.description << "\nexpected: " << c.expected
      << "\nactual:   " << config.status().message();
}

INSTANTIATE_TEST_SUITE_P(EveryErrorClass, ConfigErrorTest, testing::ValuesIn(kErrorCases));

TEST(ConfigLoader, CollectsEveryErrorInFileOrder) {
  const char* yaml =
      "cluster:\n"
      "  name: Web\n"  // 2: bad name
      "  vips: [198.18.0.100]\n"
      "  port_rules:\n"
      "    - {name: a, ports: 70000}\n"    // 5: bad port
      "    - {name: b, protocol: sctp}\n"  // 6: bad protocol
      "host:\n"
      "  id: 300\n"  // 8: bad id
      "  interface: eth0\n"
      "  dedicated_address: nowhere\n";  // 10: bad address
  Result<NodeConfig> config = ParseConfig(yaml, "t.yaml");
  ASSERT_FALSE(config.ok());
  const std::string& m = config.status().message();
  const size_t name = m.find("t.yaml:2:9: cluster.name");
  const size_t port = m.find("t.yaml:5:24: cluster.port_rules[0].ports");
  const size_t protocol = m.find("t.yaml:6:27: cluster.port_rules[1].protocol");
  const size_t id = m.find("t.yaml:8:7: host.id");
  const size_t address = m.find("t.yaml:10:22: host.dedicated_address");
  ASSERT_NE(name, std::string::npos) << m;
  ASSERT_NE(port, std::string::npos) << m;
  ASSERT_NE(protocol, std::string::npos) << m;
  ASSERT_NE(id, std::string::npos) << m;
  ASSERT_NE(address, std::string::npos) << m;
  EXPECT_LT(name, port);
  EXPECT_LT(port, protocol);
  EXPECT_LT(protocol, id);
  EXPECT_LT(id, address);
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 4) << m;  // five lines, nothing else
}

TEST(ConfigLoader, AppliesDefaultsWhenFieldsAreOmitted) {
  Result<NodeConfig> config = ParseConfig(
      "cluster:\n  name: web\n  vips: [198.18.0.100]\n"
      "host:\n  id: 7\n  interface: eth0\n  dedicated_address: 198.18.1.7\n",
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const ClusterConfig& c = config->cluster;
  EXPECT_EQ(c.name, "web");
  ASSERT_EQ(c.vips.size(), 1u);
  EXPECT_EQ(c.vips[0], *IpAddress::Parse("198.18.0.100"));
  EXPECT_EQ(c.mac_mode, MacMode::kMulticast);
  EXPECT_EQ(c.heartbeat.period_ms, 1000u);
  EXPECT_EQ(c.heartbeat.tolerance, 5u);
  EXPECT_EQ(c.heartbeat.port, 2504);
  EXPECT_EQ(c.heartbeat.key_file, "/etc/nlb/cluster.key");
  EXPECT_TRUE(c.control.remote);
  EXPECT_EQ(c.control.port, 2505);
  // No port_rules: one rule covering everything, as Windows NLB's default rule.
  ASSERT_EQ(c.port_rules.size(), 1u);
  const PortRule& r = c.port_rules[0];
  EXPECT_EQ(r.name, "all:0-65535/both");
  EXPECT_FALSE(r.vip.has_value());
  EXPECT_EQ(r.first_port, 0);
  EXPECT_EQ(r.last_port, 65535);
  EXPECT_EQ(r.protocol, Protocol::kBoth);
  EXPECT_EQ(r.mode, FilteringMode::kMultipleHost);
  EXPECT_EQ(r.affinity, Affinity::kSingle);
  EXPECT_EQ(r.ipv6_network_prefix, 64);
  const HostConfig& h = config->host;
  EXPECT_EQ(h.id, 7);
  EXPECT_EQ(h.interface, "eth0");
  EXPECT_EQ(h.dedicated_address, *IpAddress::Parse("198.18.1.7"));
  EXPECT_EQ(h.initial_state, InitialState::kStarted);
  EXPECT_TRUE(config->warnings.empty());
  EXPECT_EQ(h.data_path, DataPathMode::kAuto);  // bpf where the kernel allows it
  ASSERT_EQ(h.rule_params.size(), 1u);
  EXPECT_EQ(h.rule_params[0].weight, 50u);
  EXPECT_EQ(h.rule_params[0].priority, 7u);  // the host id while it is <= 32
  EXPECT_EQ(config->source_path, "t.yaml");
}

TEST(ConfigLoader, ConnectionTracking) {
  const std::string head = "cluster:\n  name: web\n  vips: [198.18.0.100]\n";
  const std::string host = "host:\n  id: 7\n  interface: eth0\n  dedicated_address: 198.18.1.7\n";
  Result<NodeConfig> defaults = ParseConfig(head + host, "t.yaml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->cluster.connection_tracking, ConnectionTrackingConfig{});
  EXPECT_EQ(defaults->cluster.connection_tracking.capacity, 1048576u);
  EXPECT_EQ(CanonicalClusterText(defaults->cluster).find("connection_tracking"), std::string::npos);

  Result<NodeConfig> set =
      ParseConfig(head +
                      "  connection_tracking:\n    capacity: 4096\n    idle_timeout_s: 60\n"
                      "    close_delay_s: 5\n    moving_timeout_s: 30\n" +
                      host,
                  "t.yaml");
  ASSERT_TRUE(set.ok()) << set.status().message();
  const ConnectionTrackingConfig& t = set->cluster.connection_tracking;
  EXPECT_EQ(t.capacity, 4096u);
  EXPECT_EQ(t.idle_timeout_s, 60u);
  EXPECT_EQ(t.close_delay_s, 5u);
  EXPECT_EQ(t.moving_timeout_s, 30u);
  EXPECT_NE(CanonicalClusterText(set->cluster).find("connection_tracking=4096|60|5|30\n"),
            std::string::npos);

  Result<NodeConfig> bad = ParseConfig(
      head + "  connection_tracking:\n    capacity: 10\n    moving_timeout: 3\n" + host, "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cluster.connection_tracking.capacity"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("moving_timeout"), std::string::npos);

  // The hold has a line of its own, so that clusters that set the other fields keep their digest.
  EXPECT_EQ(defaults->cluster.connection_tracking.half_open_hold_s, 10u);
  Result<NodeConfig> hold =
      ParseConfig(head + "  connection_tracking:\n    half_open_hold_s: 15\n" + host, "t.yaml");
  ASSERT_TRUE(hold.ok()) << hold.status().message();
  EXPECT_EQ(hold->cluster.connection_tracking.half_open_hold_s, 15u);
  const std::string text = CanonicalClusterText(hold->cluster);
  EXPECT_NE(text.find("connection_tracking.half_open_hold_s=15\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("connection_tracking="), std::string::npos) << text;
  EXPECT_EQ(CanonicalClusterText(set->cluster).find("half_open_hold_s"), std::string::npos);
  for (const char* value : {"0", "61"}) {
    Result<NodeConfig> out_of_range = ParseConfig(
        head + "  connection_tracking:\n    half_open_hold_s: " + value + "\n" + host, "t.yaml");
    ASSERT_FALSE(out_of_range.ok()) << value;
    EXPECT_NE(out_of_range.status().message().find("cluster.connection_tracking.half_open_hold_s"),
              std::string::npos)
        << out_of_range.status().message();
  }
}

TEST(ConfigLoader, RuleDefaultsAndDerivedNames) {
  Result<NodeConfig> config = ParseConfig(
      "cluster:\n  name: web\n  vips: [\"2001:2::100\"]\n  port_rules:\n"
      "    - vip: 2001:2::100\n      ports: 8000-8100\n      protocol: udp\n"
      "    - {}\n"
      "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n",
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->cluster.port_rules.size(), 2u);
  EXPECT_EQ(config->cluster.port_rules[0].name, "[2001:2::100]:8000-8100/udp");
  EXPECT_EQ(config->cluster.port_rules[0].first_port, 8000);
  EXPECT_EQ(config->cluster.port_rules[0].last_port, 8100);
  EXPECT_EQ(config->cluster.port_rules[1].name, "all:0-65535/both");
}

TEST(ConfigLoader, EmptyRuleListMeansNoRules) {
  for (const char* rules : {"  port_rules: []\n", "  port_rules:\n"}) {
    Result<NodeConfig> config = ParseConfig(
        std::string("cluster:\n  name: web\n  vips: [198.18.0.100]\n") + rules + kHost, "t.yaml");
    ASSERT_TRUE(config.ok()) << config.status().message();
    EXPECT_TRUE(config->cluster.port_rules.empty()) << rules;
    EXPECT_TRUE(config->host.rule_params.empty()) << rules;
  }
}

TEST(ConfigLoader, SortsRulesCanonicallyAndAlignsHostParams) {
  Result<NodeConfig> config = ParseConfig(
      "cluster:\n  name: web\n  vips: [\"2001:2::100\", 198.18.0.100]\n  port_rules:\n"
      "    - {name: all-high, ports: 1000-65535}\n"
      "    - {name: v6-web, vip: 2001:2::100, ports: 80, protocol: tcp}\n"
      "    - {name: v4-dns, vip: 198.18.0.100, ports: 53, protocol: both}\n"
      "    - {name: v4-https, vip: 198.18.0.100, ports: 443, protocol: tcp}\n"
      "    - {name: v4-web, vip: 198.18.0.100, ports: 80, protocol: tcp}\n"
      "    - {name: all-low, ports: 0-999, protocol: udp, mode: single}\n"
      "    - {name: v4-syslog, vip: 198.18.0.100, ports: 514, protocol: udp}\n"
      "host:\n  id: 3\n  interface: eth0\n  dedicated_address: 198.18.1.3\n  rules:\n"
      "    - {rule: v4-https, weight: 10}\n    - {rule: all-low, priority: 9}\n",
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  std::vector<std::string> names;
  for (const PortRule& r : config->cluster.port_rules) names.push_back(r.name);
  // VIP-specific first (IPv4 before IPv6), then tcp < udp < both, then first port; "all" last.
  const std::vector<std::string> expected = {"v4-web", "v4-https", "v4-syslog", "v4-dns",
                                             "v6-web", "all-low",  "all-high"};
  EXPECT_EQ(names, expected);
  ASSERT_EQ(config->host.rule_params.size(), expected.size());
  EXPECT_EQ(config->host.rule_params[1].weight, 10u);   // v4-https
  EXPECT_EQ(config->host.rule_params[5].priority, 9u);  // all-low
  EXPECT_EQ(config->host.rule_params[0].weight, 50u);   // untouched: defaults
  EXPECT_EQ(config->host.rule_params[0].priority, 3u);
}

TEST(ConfigLoader, DataPathTable) {
  const struct {
    const char* text;
    DataPathMode mode;
  } cases[] = {
      {"auto", DataPathMode::kAuto},
      {"bpf", DataPathMode::kBpf},
      {"capture", DataPathMode::kCapture},
      {"xdp", DataPathMode::kXdp},
  };
  for (const auto& c : cases) {
    Result<NodeConfig> config = ParseConfig(
        "cluster:\n  name: web\n  vips: [198.18.0.100]\nhost:\n  id: 1\n  interface: eth0\n"
        "  dedicated_address: 198.18.1.1\n  data_path: " +
            std::string(c.text) + "\n",
        "t.yaml");
    ASSERT_TRUE(config.ok()) << c.text << ": " << config.status().message();
    EXPECT_EQ(config->host.data_path, c.mode) << c.text;
    EXPECT_EQ(DataPathModeName(c.mode), c.text);
  }
}

TEST(ConfigLoader, HostIdAbove32WithPrioritiesIsValid) {
  Result<NodeConfig> config = ParseConfig(
      "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
      "    - {name: smtp, ports: 25, mode: single}\n    - {name: web, ports: 80}\n"
      "host:\n  id: 200\n  interface: eth0\n  dedicated_address: 198.18.1.1\n"
      "  initial_state: stopped\n  kernel_fast_path: false\n"
      "  rules:\n    - {rule: smtp, priority: 32}\n",
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->host.id, 200);
  EXPECT_EQ(config->host.initial_state, InitialState::kStopped);
  EXPECT_EQ(config->host.rule_params[0].priority, 32u);
}

// host.kernel_fast_path was retired with the kernel fast path: files that set it still load, with
// one located warning; a value that is not a boolean was never valid and stays an error (above).
TEST(ConfigLoader, RetiredKernelFastPathLoadsWithAWarning) {
  for (const char* value : {"true", "false"}) {
    Result<NodeConfig> config = ParseConfig(
        std::string("cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
                    "    - {name: web, ports: 80}\n"
                    "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.1\n"
                    "  kernel_fast_path: ") +
            value + "\n",
        "t.yaml");
    ASSERT_TRUE(config.ok()) << value << ": " << config.status().message();
    ASSERT_EQ(config->warnings.size(), 1u) << value;
    EXPECT_EQ(config->warnings[0].rfind("t.yaml:10:21: host.kernel_fast_path: ignored: the kernel "
                                        "fast path was retired",
                                        0),
              0u)
        << config->warnings[0];
  }
}

TEST(ConfigLoader, MissingFileIsNotFoundAndNamesThePath) {
  Result<NodeConfig> config = LoadConfigFile("/nonexistent/nlb.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(config.status().message().find("/nonexistent/nlb.yaml"), std::string::npos);
}

TEST(ConfigLoader, DirectoryIsNotAConfiguration) {
  Result<NodeConfig> config = LoadConfigFile("/");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace nlb
