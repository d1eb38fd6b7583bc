// ReadClusterKey: only a private regular file of a sane size is accepted, and each refusal says
// what to fix.
#include "config/cluster_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace nlb {
namespace {

class ClusterKeyTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "nlb-key-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  std::filesystem::path dir_;
};

const std::string kKey = "0123456789abcdef0123456789abcdef\n";

TEST_F(ClusterKeyTest, ReadsPrivateKeyVerbatim) {
  for (mode_t mode : {0600, 0400}) {
    Result<std::string> key = ReadClusterKey(Write("k", kKey, mode));
    ASSERT_TRUE(key.ok()) << key.status().message();
    EXPECT_EQ(key.value(), kKey);
    std::filesystem::remove(dir_ / "k");
  }
}

struct KeyCase {
  const char* description;
  std::string content;
  mode_t mode;
  ErrorCode code;
  const char* expected;
};

TEST_F(ClusterKeyTest, RefusesWithAReason) {
  const KeyCase cases[] = {
      {"group readable", kKey, 0640, ErrorCode::kPermission, "mode 0640 lets other users read"},
      {"world readable", kKey, 0644, ErrorCode::kPermission, "chmod 600"},
      {"too short", "short\n", 0600, ErrorCode::kInvalidArgument, "6 bytes; a key has 16-4096"},
      {"empty", "", 0600, ErrorCode::kInvalidArgument, "0 bytes"},
      {"too long", std::string(5000, 'k'), 0600, ErrorCode::kInvalidArgument, "5000 bytes"},
  };
  for (const KeyCase& c : cases) {
    const std::string path = Write("k", c.content, c.mode);
    Result<std::string> key = ReadClusterKey(path);
    ASSERT_FALSE(key.ok()) << c.description;
    EXPECT_EQ(key.status().code(), c.code) << c.description;
    EXPECT_NE(key.status().message().find(c.expected), std::string::npos)
        << c.description << ": " << key.status().message();
    EXPECT_NE(key.status().message().find(path), std::string::npos) << c.description;
    std::filesystem::remove(path);
  }
}

TEST_F(ClusterKeyTest, MissingFileIsNotFound) {
  Result<std::string> key = ReadClusterKey((dir_ / "absent").string());
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), ErrorCode::kNotFound);
}

TEST_F(ClusterKeyTest, MissingFileSaysHowToMakeOne) {
  const std::string path = (dir_ / "absent").string();
  Result<std::string> key = ReadClusterKey(path);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("nlbctl keygen " + path), std::string::npos)
      << key.status().message();
}

// Another user owning the key could read it whatever its mode, or swap in their own.
TEST_F(ClusterKeyTest, KeyOwnedByAnotherUserIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "giving a file away takes root";
  const std::string path = Write("k", kKey, 0600);
  ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0);
  Result<std::string> key = ReadClusterKey(path);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), ErrorCode::kPermission);
  EXPECT_NE(key.status().message().find("owned by uid 65534"), std::string::npos)
      << key.status().message();
  EXPECT_NE(key.status().message().find("chown root:root " + path), std::string::npos);
  ASSERT_EQ(chown(path.c_str(), 0, 0), 0);
  EXPECT_TRUE(ReadClusterKey(path).ok());
}

TEST_F(ClusterKeyTest, DirectoryIsRefused) {
  Result<std::string> key = ReadClusterKey(dir_.string());
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("not a regular file"), std::string::npos)
      << key.status().message();
}

}  // namespace
}  // namespace nlb
