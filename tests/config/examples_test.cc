// Every shipped example in config/examples loads without error, and the hosts of one cluster
// agree on its digest (otherwise they would refuse each other at run time).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb {
namespace {

TEST(ConfigExamples, EveryExampleLoads) {
  const std::filesystem::path dir = NLB_CONFIG_EXAMPLES_DIR;
  int loaded = 0;
  std::map<std::string, std::string> digest_by_cluster;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    Result<NodeConfig> config = LoadConfigFile(entry.path().string());
    ASSERT_TRUE(config.ok()) << config.status().message();
    ++loaded;
    const std::string digest = DigestHex(ClusterDigest(config->cluster));
    auto [it, inserted] = digest_by_cluster.emplace(config->cluster.name, digest);
    EXPECT_EQ(it->second, digest) << entry.path() << " disagrees with another host of cluster "
                                  << config->cluster.name;
  }
  EXPECT_GE(loaded, 5);  // web/host1..3, dual-stack-mail, minimal
  EXPECT_EQ(digest_by_cluster.size(), 3u);
}

// The installed sample (/etc/nlb/nlb.yaml) must not run until the operator has made it this
// host's: each missing field is named, with where to set it.
TEST(ConfigExamples, InstalledSampleRefusesUntilTheHostIsSet) {
  const std::string path = NLB_CONFIG_SAMPLE;
  Result<NodeConfig> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  const std::string& message = config.status().message();
  for (const char* field : {"host.id", "host.interface", "host.dedicated_address"}) {
    EXPECT_NE(message.find(std::string(field) + ": required field is missing"), std::string::npos)
        << field << " in: " << message;
  }
}

// With the host fields set, the sample is a valid cluster (so the operator's next error is the
// missing key, which names `nlbctl keygen`).
TEST(ConfigExamples, InstalledSampleLoadsOnceTheHostIsSet) {
  std::ifstream in(NLB_CONFIG_SAMPLE);
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  for (const char* field : {"id: 1", "interface: eth0", "dedicated_address: 198.18.1.1"}) {
    const std::string commented = std::string("# ") + field;
    const size_t at = yaml.find(commented);
    ASSERT_NE(at, std::string::npos) << field;
    yaml.replace(at, commented.size(), field);
  }
  const std::string path = testing::TempDir() + "nlb-sample-set.yaml";
  std::ofstream(path) << yaml;
  Result<NodeConfig> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->host.id, 1);
  EXPECT_EQ(config->cluster.heartbeat.key_file, "/etc/nlb/cluster.key");
  std::filesystem::remove(path);
}

TEST(ConfigExamples, RelativeKeyFileIsResolvedAgainstTheConfigDirectory) {
  const std::filesystem::path file =
      std::filesystem::path(NLB_CONFIG_EXAMPLES_DIR) / "dual-stack-mail.yaml";
  Result<NodeConfig> config = LoadConfigFile(file.string());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->cluster.heartbeat.key_file,
            (file.parent_path() / "cluster.key").lexically_normal().string());
  EXPECT_EQ(config->source_path, file.string());
}

}  // namespace
}  // namespace nlb
