// The commands nlbctl runs without an agent: ip2mac and keygen.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/cluster_key.h"
#include "tools/cluster_key_writer.h"
#include "tools/mac_listing.h"
#include "tools/nlbctl.h"

namespace nlb {
namespace {

TEST(MacListingTest, EveryModeForAVip) {
  const Result<std::string> table = ListClusterMacs("198.18.0.100", false);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table.value(),
            "VIP 198.18.0.100\n"
            "MODE       CLUSTER MAC        NOTE\n"
            "multicast  03:bf:c6:12:00:64  hosts keep their own MAC\n"
            "unicast    02:bf:c6:12:00:64  hosts send from 02:<host id>:c6:12:00:64\n"
            "igmp       01:00:5e:7f:00:64  hosts join 239.255.0.100\n");
  const Result<std::string> json = ListClusterMacs("2001:2::c612:64", true);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(
      json.value(),
      R"({"vip":"2001:2::c612:64","multicast":"03:bf:c6:12:00:64",)"
      R"("unicast":"02:bf:c6:12:00:64","igmp":"01:00:5e:7f:00:64","igmp_group":"239.255.0.100"})"
      "\n");
  EXPECT_FALSE(ListClusterMacs("web", false).ok());
}

class KeygenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nlbctl-keygen-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int Run(std::vector<std::string_view> args, std::string* err = nullptr) {
    std::ostringstream out;
    std::ostringstream errors;
    const int status = RunNlbctl(args, out, errors);
    if (err != nullptr) *err = errors.str();
    return status;
  }

  std::filesystem::path dir_;
};

TEST_F(KeygenTest, WritesAKeyReadClusterKeyAccepts) {
  const std::string path = (dir_ / "cluster.key").string();
  ASSERT_EQ(Run({"keygen", path}), 0);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const Result<std::string> key = ReadClusterKey(path);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->size(), 45u);  // base64 of 32 bytes and a newline
  EXPECT_EQ(key->back(), '\n');
}

TEST_F(KeygenTest, RefusesToOverwriteWithoutForce) {
  const std::string path = (dir_ / "cluster.key").string();
  ASSERT_EQ(Run({"keygen", path}), 0);
  const std::string first = ReadClusterKey(path).value();
  std::string err;
  EXPECT_EQ(Run({"keygen", path}, &err), 4);
  EXPECT_NE(err.find("--force"), std::string::npos) << err;
  EXPECT_EQ(ReadClusterKey(path).value(), first);

  ASSERT_EQ(Run({"keygen", "--force", path}), 0);
  EXPECT_NE(ReadClusterKey(path).value(), first);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1)
      << "no temporary file left behind";
}

TEST_F(KeygenTest, MissingDirectoryIsAnError) {
  const Status s = WriteNewClusterKey((dir_ / "no" / "cluster.key").string(), false);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.message();
  EXPECT_NE(s.message().find("no/cluster.key"), std::string::npos);
}

}  // namespace
}  // namespace nlb
