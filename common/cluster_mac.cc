#include "common/cluster_mac.h"

#include <cstdio>

namespace nlb {

std::string_view MacModeName(MacMode mode) {
  switch (mode) {
    case MacMode::kMulticast: return "multicast";
    case MacMode::kUnicast: return "unicast";
    case MacMode::kIgmp: return "igmp";
  }
  return "unknown";
}

std::string FormatMac(const MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                mac[3], mac[4], mac[5]);
  return text;
}

std::optional<std::array<uint8_t, 4>> ClusterMacSeed(std::span<const IpAddress> vips) {
  for (const IpAddress& vip : vips) {
    if (vip.is_v4()) return std::array<uint8_t, 4>{vip.bytes[0], vip.bytes[1], vip.bytes[2],
                                                   vip.bytes[3]};
  }
  for (const IpAddress& vip : vips) {
    if (vip.is_v6()) return std::array<uint8_t, 4>{vip.bytes[12], vip.bytes[13], vip.bytes[14],
                                                   vip.bytes[15]};
  }
  return std::nullopt;
}

std::optional<ClusterMac> ComputeClusterMac(std::span<const IpAddress> vips, MacMode mode) {
  const auto seed = ClusterMacSeed(vips);
  if (!seed) return std::nullopt;
  const auto& s = *seed;
  ClusterMac cluster;
  cluster.mode = mode;
  cluster.seed = s;
  switch (mode) {
    case MacMode::kMulticast: cluster.mac = {0x03, 0xbf, s[0], s[1], s[2], s[3]}; break;
    case MacMode::kUnicast: cluster.mac = {0x02, 0xbf, s[0], s[1], s[2], s[3]}; break;
    case MacMode::kIgmp: {
      cluster.mac = {0x01, 0x00, 0x5e, 0x7f, s[2], s[3]};
      const uint8_t group[4] = {239, 255, s[2], s[3]};
      cluster.igmp_group = IpAddress::V4(group);
      break;
    }
  }
  return cluster;
}

MacAddress MaskedSourceMac(const ClusterMac& cluster, uint16_t host_id) {
  const auto& s = cluster.seed;
  uint8_t id = static_cast<uint8_t>(host_id & 0xff);
  // Host 191 would send from the cluster MAC itself and teach it to the switches.
  if (id == 0xbf) id = 0x00;
  return {0x02, id, s[0], s[1], s[2], s[3]};
}

MacAddress Ipv6MulticastMac(const IpAddress& group) {
  return {0x33, 0x33, group.bytes[12], group.bytes[13], group.bytes[14], group.bytes[15]};
}

IpAddress SolicitedNodeGroup(const IpAddress& address) {
  uint8_t group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  group[13] = address.bytes[13];
  group[14] = address.bytes[14];
  group[15] = address.bytes[15];
  return IpAddress::V6(group);
}

}  // namespace nlb
