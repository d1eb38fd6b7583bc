// The fields nlbctl reads from a configuration file: from a valid file, from a file whose error
// lies elsewhere (so `nlbctl reload` of a broken file reaches the agent), and the full error when
// even those fields cannot be read.
#include "tools/control_settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace nlb {
namespace {

class ControlSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("control-settings-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& rules, const std::string& control = "") {
    const std::string path = (dir_ / "nlb.yaml").string();
    std::ofstream(path) << "cluster:\n  name: web\n  vips: [198.18.0.100]\n"
                        << "  heartbeat: { key_file: keys/cluster.key }\n"
                        << control << "  port_rules:\n"
                        << rules << "host:\n  id: 7\n  interface: lo\n"
                        << "  dedicated_address: 198.18.1.7\n";
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ControlSettingsTest, ValidFile) {
  const std::string path =
      Write("    - { name: http, ports: 80, protocol: tcp }\n", "  control: { port: 2600 }\n");
  const Result<ControlSettings> s = ReadControlSettings(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->cluster_name, "web");
  EXPECT_EQ(s->host_id, 7);
  EXPECT_EQ(s->control_port, 2600);
  EXPECT_EQ(s->key_file, (dir_ / "keys/cluster.key").string());
}

TEST_F(ControlSettingsTest, AnErrorElsewhereStillGivesTheFields) {
  const std::string path = Write("    - { name: http, ports: 70000, protocol: tcp }\n");
  const Result<ControlSettings> s = ReadControlSettings(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->cluster_name, "web");
  EXPECT_EQ(s->host_id, 7);
  EXPECT_EQ(s->control_port, 2505);
  EXPECT_EQ(s->key_file, (dir_ / "keys/cluster.key").string());
}

TEST_F(ControlSettingsTest, UnreadableFieldsGiveTheFullError) {
  const std::string bad_port =
      Write("    - { name: http, ports: 70000, protocol: tcp }\n", "  control: { port: 0 }\n");
  const Result<ControlSettings> s = ReadControlSettings(bad_port);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("70000"), std::string::npos) << s.status().message();
  EXPECT_FALSE(ReadControlSettings((dir_ / "absent.yaml").string()).ok());
  const std::string garbage = (dir_ / "garbage.yaml").string();
  std::ofstream(garbage) << "cluster: [unclosed\n";
  EXPECT_FALSE(ReadControlSettings(garbage).ok());
}

TEST_F(ControlSettingsTest, ASyntaxErrorStillGivesTheFieldsLineByLine) {
  const std::string path = Write("    - { name: http, ports: [80, protocol: tcp }\n");
  const Result<ControlSettings> s = ReadControlSettings(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->cluster_name, "web");
  EXPECT_EQ(s->host_id, 7);
  EXPECT_EQ(s->control_port, 2505);
  EXPECT_EQ(s->key_file, (dir_ / "keys/cluster.key").string());
}

}  // namespace
}  // namespace nlb
