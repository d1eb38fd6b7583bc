// RunConfigCheck: a valid configuration with a private key prints the one-line summary with the
// digest and exits 0; a bad configuration or key prints the errors and exits 2.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/command_line.h"
#include "agent/config_check.h"
#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb {
namespace {

class ConfigCheckTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "nlb-check-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  std::filesystem::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

constexpr const char* kConfig =
    "cluster:\n  name: web\n  vips: [198.18.0.100]\n  heartbeat: {key_file: cluster.key}\n"
    "  port_rules:\n    - {name: http, ports: 80, protocol: tcp}\n"
    "    - {name: https, ports: 443, protocol: tcp}\n"
    "host:\n  id: 3\n  interface: eth0\n  dedicated_address: 198.18.1.13\n";

TEST_F(ConfigCheckTest, ValidConfigurationPrintsSummaryWithDigest) {
  Write("cluster.key", "0123456789abcdef0123456789abcdef\n");
  const std::string path = Write("nlb.yaml", kConfig, 0644);
  ASSERT_EQ(RunConfigCheck(path, out_, err_), kExitOk) << err_.str();
  Result<NodeConfig> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(out_.str(), path + ": ok (cluster web, host 3, 2 rules, digest " +
                            DigestHex(ClusterDigest(config->cluster)) + ")\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(ConfigCheckTest, InvalidConfigurationPrintsEveryErrorAndExits2) {
  const std::string path =
      Write("nlb.yaml", "cluster:\n  name: Web\n  vips: [198.18.0.999]\nhost: {id: 0}\n", 0644);
  EXPECT_EQ(RunConfigCheck(path, out_, err_), kExitConfigInvalid);
  EXPECT_EQ(out_.str(), "");
  for (const std::string& expected :
       {path + ":2:9: cluster.name", path + ":3:10: cluster.vips[0]", path + ":4:12: host.id"}) {
    EXPECT_NE(err_.str().find(expected), std::string::npos) << err_.str();
  }
}

TEST_F(ConfigCheckTest, MissingOrOpenKeyFileIsAnError) {
  const std::string path = Write("nlb.yaml", kConfig, 0644);
  EXPECT_EQ(RunConfigCheck(path, out_, err_), kExitConfigInvalid);
  EXPECT_NE(err_.str().find("cluster.heartbeat.key_file"), std::string::npos) << err_.str();

  err_.str("");
  Write("cluster.key", "0123456789abcdef0123456789abcdef\n", 0644);
  EXPECT_EQ(RunConfigCheck(path, out_, err_), kExitConfigInvalid);
  EXPECT_NE(err_.str().find("chmod 600"), std::string::npos) << err_.str();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ConfigCheckTest, MissingConfigurationFileIsAnError) {
  EXPECT_EQ(RunConfigCheck((dir_ / "absent.yaml").string(), out_, err_), kExitConfigInvalid);
  EXPECT_NE(err_.str().find("absent.yaml"), std::string::npos);
}

}  // namespace
}  // namespace nlb
