// A port rule's `health:` mapping: every field's error is located (file:line:col, field path,
// "did you mean"), defaults are applied, and health checks enter the cluster digest.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb {
namespace {

// Line 5 holds the `health:` mapping of the rule on line 4.
std::string Config(const std::string& health, const std::string& ports = "80") {
  return "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
         "    - {name: web, ports: " +
         ports + ", protocol: tcp, health: " + health +
         "}\n"
         "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.11\n";
}

struct ErrorCase {
  const char* description;
  const char* health;
  const char* ports;
  const char* expected;  // a substring of the message
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.description; }

const ErrorCase kErrors[] = {
    {"not a mapping", "tcp", "80",
     "t.yaml:5:53: cluster.port_rules[0].health: expected a mapping with 'type:'"},
    {"type missing", "{port: 80}", "80", "cluster.port_rules[0].health.type: required field"},
    {"type misspelt", "{type: htp}", "80",
     "t.yaml:5:60: cluster.port_rules[0].health.type: 'htp' is not valid; expected one of http | "
     "https | tcp | command (did you mean 'http'?)"},
    {"unknown field with suggestion", "{type: tcp, intervall_ms: 500}", "80",
     "cluster.port_rules[0].health.intervall_ms: unknown field (did you mean 'interval_ms'?)"},
    {"port needed for a range", "{type: tcp}", "\"8000-8100\"",
     "cluster.port_rules[0].health.port: required because rule 'web' covers ports 8000-8100"},
    {"port out of range", "{type: tcp, port: 70000}", "80",
     "cluster.port_rules[0].health.port: 70000 is not a port (1-65535)"},
    {"bad address", "{type: tcp, address: localhost}", "80",
     "cluster.port_rules[0].health.address: 'localhost' is not a unicast IPv4 or IPv6 address"},
    {"multicast address", "{type: tcp, address: 224.0.0.1}", "80",
     "health.address: '224.0.0.1' is not a unicast"},
    {"path on a tcp check", "{type: tcp, path: /x}", "80",
     "cluster.port_rules[0].health.path: only for type http or https, not for a tcp check"},
    {"command on an http check", "{type: http, command: [/bin/true]}", "80",
     "health.command: only for type command, not for a http check"},
    {"port on a command check", "{type: command, command: [/bin/true], port: 80}", "80",
     "health.port: only for type http, https or tcp, not for a command check"},
    {"path without a slash", "{type: http, path: healthz}", "80",
     "health.path: 'healthz' is not a request path"},
    {"path with a space", "{type: http, path: \"/a b\"}", "80",
     "health.path: '/a b' is not a request path"},
    {"status out of range", "{type: http, expect_status: 99}", "80",
     "health.expect_status: 99 is not an HTTP status (100-599)"},
    {"command missing", "{type: command}", "80", "health.command: required field is missing"},
    {"command not a list", "{type: command, command: /bin/true}", "80",
     "health.command: expected a list: the program's absolute path"},
    {"command relative", "{type: command, command: [check-web, -q]}", "80",
     "cluster.port_rules[0].health.command[0]: 'check-web' is not an absolute path; the command "
     "is run directly, without a shell or PATH"},
    {"command with an empty word", "{type: command, command: [/bin/x, \"\"]}", "80",
     "health.command[1]: is empty"},
    {"interval too short", "{type: tcp, interval_ms: 10}", "80",
     "health.interval_ms: 10 is not a time in milliseconds (100-3600000)"},
    {"timeout above interval", "{type: tcp, interval_ms: 500, timeout_ms: 800}", "80",
     "health.timeout_ms: timeout_ms 800 is above interval_ms 500"},
    {"default timeout above a short interval", "{type: tcp, interval_ms: 500}", "80",
     "health.interval_ms: timeout_ms 1000 is above interval_ms 500"},
    {"single-host rule", "{type: tcp}", "80, mode: single",
     "cluster.port_rules[0].health: health checks are for multiple-host rules (mode: multiple); "
     "rule 'web' is single"},
    {"rise zero", "{type: tcp, rise: 0}", "80", "health.rise: 0 is not a count of probes (1-100)"},
    {"fall not a number", "{type: tcp, fall: many}", "80",
     "health.fall: 'many' is not a whole number"},
};

class HealthConfigErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(HealthConfigErrorTest, ReportsLocatedError) {
  const ErrorCase& c = GetParam();
  Result<NodeConfig> config = ParseConfig(Config(c.health, c.ports), "t.yaml");
  ASSERT_FALSE(config.ok()) << c.description;
  EXPECT_EQ(config.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
      << c.description << "\nexpected: " << c.expected
      << "\nactual:   " << config.status().message();
}

INSTANTIATE_TEST_SUITE_P(EveryField, HealthConfigErrorTest, testing::ValuesIn(kErrors));

TEST(HealthConfig, NoHealthCheckByDefault) {
  Result<NodeConfig> config = ParseConfig(
      "cluster:\n  name: web\n  vips: [198.18.0.100]\n"
      "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.11\n",
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_TRUE(config->cluster.health_checks.empty());
}

TEST(HealthConfig, AppliesDefaults) {
  Result<NodeConfig> config = ParseConfig(Config("{type: http}"), "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->cluster.health_checks.size(), 1u);
  const HealthCheckSpec& h = config->cluster.health_checks[0];
  EXPECT_EQ(h.rule, "web");
  EXPECT_EQ(h.kind, HealthCheckKind::kHttp);
  EXPECT_EQ(h.address.ToString(), "127.0.0.1");
  EXPECT_EQ(h.port, 80);  // the rule's one port
  EXPECT_EQ(h.path, "/");
  EXPECT_EQ(h.expect_status, 200u);
  EXPECT_EQ(h.expect_body, "");
  EXPECT_EQ(h.interval_ms, 2000u);
  EXPECT_EQ(h.timeout_ms, 1000u);
  EXPECT_EQ(h.rise, 2u);
  EXPECT_EQ(h.fall, 3u);
}

TEST(HealthConfig, ReadsEveryField) {
  Result<NodeConfig> config = ParseConfig(
      Config("{type: https, address: \"::1\", port: 8443, path: \"/healthz?deep=1\", "
             "expect_status: 204, expect_body: ready, interval_ms: 500, timeout_ms: 200, "
             "rise: 1, fall: 5}",
             "\"8000-9000\""),
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const HealthCheckSpec& h = config->cluster.health_checks.at(0);
  EXPECT_EQ(h.kind, HealthCheckKind::kHttps);
  EXPECT_EQ(h.address.ToString(), "::1");
  EXPECT_EQ(h.port, 8443);
  EXPECT_EQ(h.path, "/healthz?deep=1");
  EXPECT_EQ(h.expect_status, 204u);
  EXPECT_EQ(h.expect_body, "ready");
  EXPECT_EQ(h.interval_ms, 500u);
  EXPECT_EQ(h.timeout_ms, 200u);
  EXPECT_EQ(h.rise, 1u);
  EXPECT_EQ(h.fall, 5u);
}

TEST(HealthConfig, ReadsACommand) {
  Result<NodeConfig> config = ParseConfig(
      Config("{type: command, command: [/usr/local/bin/check, --port, \"80\"]}"), "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const HealthCheckSpec& h = config->cluster.health_checks.at(0);
  EXPECT_EQ(h.kind, HealthCheckKind::kCommand);
  EXPECT_EQ(h.command, (std::vector<std::string>{"/usr/local/bin/check", "--port", "80"}));
}

TEST(HealthConfig, EntersTheClusterDigest) {
  Result<NodeConfig> none = ParseConfig(
      "cluster:\n  name: web\n  vips: [198.18.0.100]\n  port_rules:\n"
      "    - {name: web, ports: 80, protocol: tcp}\n"
      "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.11\n",
      "t.yaml");
  Result<NodeConfig> tcp = ParseConfig(Config("{type: tcp}"), "t.yaml");
  Result<NodeConfig> tcp_written_out = ParseConfig(
      Config("{type: tcp, port: 80, address: 127.0.0.1, interval_ms: 2000, rise: 2, fall: 3}"),
      "t.yaml");
  Result<NodeConfig> slower = ParseConfig(Config("{type: tcp, fall: 4}"), "t.yaml");
  Result<NodeConfig> body_a = ParseConfig(Config("{type: http, expect_body: \"a|1\"}"), "t.yaml");
  Result<NodeConfig> body_b = ParseConfig(Config("{type: http, expect_body: \"a\"}"), "t.yaml");
  for (auto* c : {&none, &tcp, &tcp_written_out, &slower, &body_a, &body_b}) {
    ASSERT_TRUE(c->ok()) << c->status().message();
  }
  // A cluster without health checks keeps the digest it had before they existed.
  EXPECT_EQ(CanonicalClusterText(none->cluster).find("health="), std::string::npos);
  EXPECT_NE(ClusterDigest(none->cluster), ClusterDigest(tcp->cluster));
  EXPECT_EQ(ClusterDigest(tcp->cluster), ClusterDigest(tcp_written_out->cluster));
  EXPECT_NE(ClusterDigest(tcp->cluster), ClusterDigest(slower->cluster));
  EXPECT_NE(ClusterDigest(body_a->cluster), ClusterDigest(body_b->cluster));
  EXPECT_NE(CanonicalClusterText(tcp->cluster)
                .find("health=web|tcp|127.0.0.1|80|1:/|200|0:|0|"
                      "2000|1000|2|3\n"),
            std::string::npos)
      << CanonicalClusterText(tcp->cluster);
}

}  // namespace
}  // namespace nlb
