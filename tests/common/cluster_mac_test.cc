#include "common/cluster_mac.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using test::Ip;

struct ModeCase {
  const char* description;
  std::vector<IpAddress> vips;
  MacMode mode;
  MacAddress expected;
};

TEST(ClusterMacTest, ModesFromTheFirstIpv4Vip) {
  const std::vector<ModeCase> cases = {
      {"multicast", {Ip("198.18.0.100")}, MacMode::kMulticast, {0x03, 0xbf, 198, 18, 0, 100}},
      {"unicast", {Ip("198.18.0.100")}, MacMode::kUnicast, {0x02, 0xbf, 198, 18, 0, 100}},
      {"igmp", {Ip("198.18.0.100")}, MacMode::kIgmp, {0x01, 0x00, 0x5e, 0x7f, 0, 100}},
      {"first IPv4 VIP wins over later ones",
       {Ip("198.18.0.101"), Ip("198.18.0.100")}, MacMode::kMulticast,
       {0x03, 0xbf, 198, 18, 0, 101}},
      {"IPv4 VIP wins over an earlier IPv6 VIP",
       {Ip("2001:2::100"), Ip("198.18.0.100")}, MacMode::kMulticast,
       {0x03, 0xbf, 198, 18, 0, 100}},
      {"IPv6 only: last 4 bytes of the first IPv6 VIP",
       {Ip("2001:2::1:2:300"), Ip("2001:2::100")}, MacMode::kUnicast,
       {0x02, 0xbf, 0x00, 0x02, 0x03, 0x00}},
  };
  for (const auto& c : cases) {
    const auto cluster = ComputeClusterMac(c.vips, c.mode);
    ASSERT_TRUE(cluster.has_value()) << c.description;
    EXPECT_EQ(cluster->mac, c.expected) << c.description;
    EXPECT_EQ(cluster->mode, c.mode) << c.description;
  }
}

TEST(ClusterMacTest, IgmpGroupAndGroupBit) {
  const std::vector<IpAddress> vips = {Ip("198.18.7.9")};
  const auto igmp = ComputeClusterMac(vips, MacMode::kIgmp);
  ASSERT_TRUE(igmp.has_value());
  EXPECT_EQ(igmp->igmp_group, Ip("239.255.7.9"));
  EXPECT_TRUE(igmp->is_group_address());
  EXPECT_EQ(FormatMac(igmp->mac), "01:00:5e:7f:07:09");

  const auto multicast = ComputeClusterMac(vips, MacMode::kMulticast);
  EXPECT_EQ(multicast->igmp_group.family, IpAddress::Family::kNone);
  EXPECT_TRUE(multicast->is_group_address());
  EXPECT_FALSE(ComputeClusterMac(vips, MacMode::kUnicast)->is_group_address());
}

TEST(ClusterMacTest, NoVipNoClusterMac) {
  EXPECT_FALSE(ComputeClusterMac(std::vector<IpAddress>{}, MacMode::kMulticast).has_value());
}

TEST(ClusterMacTest, MaskedSourceCarriesTheHostId) {
  const std::vector<IpAddress> vips = {Ip("198.18.0.100")};
  const auto cluster = ComputeClusterMac(vips, MacMode::kUnicast);
  EXPECT_EQ(MaskedSourceMac(*cluster, 3), (MacAddress{0x02, 0x03, 198, 18, 0, 100}));
  EXPECT_EQ(MaskedSourceMac(*cluster, 256), (MacAddress{0x02, 0x00, 198, 18, 0, 100}));
  EXPECT_EQ(MaskedSourceMac(*cluster, 0xbf), (MacAddress{0x02, 0x00, 198, 18, 0, 100}))
      << "host 191 must not send from the cluster MAC";
}

TEST(ClusterMacTest, SolicitedNodeGroupAndItsMac) {
  const IpAddress group = SolicitedNodeGroup(Ip("2001:2::1:2:300"));
  EXPECT_EQ(group, Ip("ff02::1:ff02:300"));
  EXPECT_EQ(Ipv6MulticastMac(group), (MacAddress{0x33, 0x33, 0xff, 0x02, 0x03, 0x00}));
}

TEST(ClusterMacTest, ModeNames) {
  EXPECT_EQ(MacModeName(MacMode::kMulticast), "multicast");
  EXPECT_EQ(MacModeName(MacMode::kUnicast), "unicast");
  EXPECT_EQ(MacModeName(MacMode::kIgmp), "igmp");
}

}  // namespace
}  // namespace nlb
