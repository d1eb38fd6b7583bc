// ScanSettingsLines: the socket's two fields (and the remote ones) out of files that YAML cannot
// parse, and nothing from files where they are not plainly written.
#include "tools/settings_line_scan.h"

#include <gtest/gtest.h>

#include <string>

namespace nlb {
namespace {

TEST(SettingsLineScanTest, Table) {
  struct Case {
    const char* description;
    const char* text;
    const char* name;  // nullptr: nothing found
    uint16_t id;
    const char* key_file;  // nullptr: not found
    uint16_t port;         // 0: not found
  };
  const Case cases[] = {
      {"syntax error in a rule",
       "cluster:\n  name: web\n  port_rules:\n    - { name: http, ports: [80\n"
       "host:\n  id: 3\n  interface: eth0\n",
       "web", 3, nullptr, 0},
      {"rule names are not the cluster's",
       "cluster:\n  port_rules:\n    - name: http\n  name: mail\nhost:\n  id: 2\n", "mail", 2,
       nullptr, 0},
      {"comments and quotes",
       "# nlb\ncluster:   # c\n  name: \"web-2\"  # the name\nhost:\n  id: '12'\n", "web-2", 12,
       nullptr, 0},
      {"block heartbeat and control",
       "cluster:\n  name: web\n  heartbeat:\n    port: 2504\n    key_file: /etc/nlb/k.key\n"
       "  control:\n    remote: true\n    port: 2600\n  vips: [198.18.0.100\nhost:\n  id: 1\n",
       "web", 1, "/etc/nlb/k.key", 2600},
      {"flow heartbeat and control",
       "cluster:\n  name: web\n  heartbeat: { port: 9, key_file: keys/c.key }\n"
       "  control: {remote: true, port: 2601}\n  : :\nhost:\n  id: 4\n",
       "web", 4, "keys/c.key", 2601},
      {"tab-indented junk is skipped", "cluster:\n  name: web\n\t- ]\nhost:\n  id: 5\n", "web", 5,
       nullptr, 0},
      {"no host id", "cluster:\n  name: web\nhost:\n  interface: eth0\n", nullptr, 0, nullptr, 0},
      {"host id out of range", "cluster:\n  name: web\nhost:\n  id: 0\n", nullptr, 0, nullptr, 0},
      {"host id not a number", "cluster:\n  name: web\nhost:\n  id: one\n", nullptr, 0, nullptr, 0},
      {"name with a slash", "cluster:\n  name: ../etc\nhost:\n  id: 1\n", nullptr, 0, nullptr, 0},
      {"name too long", "cluster:\n  name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nhost:\n  id: 1\n",
       nullptr, 0, nullptr, 0},
      {"nested name only", "cluster:\n  heartbeat:\n    name: web\nhost:\n  id: 1\n", nullptr, 0,
       nullptr, 0},
      {"flow style top level", "{cluster: {name: web}, host: {id: 1}}\n", nullptr, 0, nullptr, 0},
      {"empty", "", nullptr, 0, nullptr, 0},
      {"a lone comma", ",", nullptr, 0, nullptr, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    const std::optional<ScannedSettings> s = ScanSettingsLines(c.text);
    if (c.name == nullptr) {
      EXPECT_FALSE(s.has_value());
      continue;
    }
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->cluster_name, c.name);
    EXPECT_EQ(s->host_id, c.id);
    EXPECT_EQ(s->key_file.has_value(), c.key_file != nullptr);
    if (c.key_file != nullptr && s->key_file) {
      EXPECT_EQ(*s->key_file, c.key_file);
    }
    EXPECT_EQ(s->control_port.value_or(0), c.port);
  }
}

}  // namespace
}  // namespace nlb
