// Every shipped example in config/examples loads without error, and the hosts of one cluster
// agree on its digest (otherwise they would refuse each other at run time).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
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
  EXPECT_GE(loaded, 6);  // web/host1..3, dual-stack-mail, minimal, nlb (the installed sample)
  EXPECT_EQ(digest_by_cluster.size(), 4u);
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
