// host.http: the read-only HTTP listener's settings. Defaults (on, 127.0.0.1:9180), every form
// of listen address, and each error located and explained.
#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"

namespace nlb {
namespace {

std::string WithHttp(const std::string& http) {
  return "cluster:\n  name: web\n  vips: [198.18.0.100]\n"
         "host:\n  id: 1\n  interface: eth0\n  dedicated_address: 198.18.1.11\n" +
         http;
}

TEST(HttpConfigTest, DefaultsToLoopback) {
  Result<NodeConfig> config = ParseConfig(WithHttp(""), "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const HttpListenConfig& h = config->host.http;
  EXPECT_TRUE(h.enabled);
  EXPECT_EQ(h.address, *IpAddress::Parse("127.0.0.1"));
  EXPECT_EQ(h.port, 9180);
  EXPECT_EQ(h.max_connections, 16u);
}

TEST(HttpConfigTest, ReadsEveryForm) {
  struct Case {
    const char* yaml;
    bool enabled;
    const char* address;
    uint16_t port;
    uint32_t max_connections;
  };
  const Case cases[] = {
      {"  http: {listen: 198.18.1.11:9100}\n", true, "198.18.1.11", 9100, 16},
      {"  http: {listen: \"[::1]:80\", max_connections: 4}\n", true, "::1", 80, 4},
      {"  http: {listen: \"[2001:2::5]:65535\"}\n", true, "2001:2::5", 65535, 16},
      {"  http: {listen: 0.0.0.0:9180}\n", true, "0.0.0.0", 9180, 16},
      {"  http: {enabled: false}\n", false, "127.0.0.1", 9180, 16},
      {"  http:\n    enabled: true\n    listen: 127.0.0.2:1\n", true, "127.0.0.2", 1, 16},
      {"  http:\n", true, "127.0.0.1", 9180, 16},
  };
  for (const Case& c : cases) {
    Result<NodeConfig> config = ParseConfig(WithHttp(c.yaml), "t.yaml");
    ASSERT_TRUE(config.ok()) << c.yaml << config.status().message();
    const HttpListenConfig& h = config->host.http;
    EXPECT_EQ(h.enabled, c.enabled) << c.yaml;
    EXPECT_EQ(h.address, *IpAddress::Parse(c.address)) << c.yaml;
    EXPECT_EQ(h.port, c.port) << c.yaml;
    EXPECT_EQ(h.max_connections, c.max_connections) << c.yaml;
  }
}

TEST(HttpConfigTest, ErrorsAreLocatedAndSayWhatIsValid) {
  struct Case {
    const char* description;
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"no port", "  http: {listen: 127.0.0.1}\n",
       "t.yaml:8:18: host.http.listen: '127.0.0.1' is not ADDRESS:PORT"},
      {"port 0", "  http: {listen: \"127.0.0.1:0\"}\n",
       "host.http.listen: '0' in '127.0.0.1:0' is not a port (1-65535)"},
      {"port too large", "  http: {listen: \"127.0.0.1:70000\"}\n",
       "'70000' in '127.0.0.1:70000' is not a port (1-65535)"},
      {"port not a number", "  http: {listen: \"127.0.0.1:http\"}\n", "is not a port (1-65535)"},
      {"host name", "  http: {listen: \"localhost:9180\"}\n",
       "'localhost:9180' is not ADDRESS:PORT"},
      {"unbracketed IPv6", "  http: {listen: \"::1:9180\"}\n", "'::1:9180' is not ADDRESS:PORT"},
      {"bracketed IPv4", "  http: {listen: \"[127.0.0.1]:9180\"}\n", "is not ADDRESS:PORT"},
      {"enabled not a boolean", "  http: {enabled: maybe}\n",
       "t.yaml:8:19: host.http.enabled: 'maybe' is not true or false"},
      {"connection limit 0", "  http: {max_connections: 0}\n",
       "host.http.max_connections: 0 is not a connection limit (1-1024)"},
      {"unknown key", "  http: {lisen: 127.0.0.1:1}\n", "did you mean 'listen'"},
      {"not a mapping", "  http: 127.0.0.1:9180\n", "host.http"},
  };
  for (const Case& c : cases) {
    Result<NodeConfig> config = ParseConfig(WithHttp(c.yaml), "t.yaml");
    ASSERT_FALSE(config.ok()) << c.description;
    EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
        << c.description << "\nexpected: " << c.expected
        << "\nactual:   " << config.status().message();
  }
}

}  // namespace
}  // namespace nlb
