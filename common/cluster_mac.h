// ClusterMac: the one MAC address a cluster answers with, and what derives from it, per mode
// (docs/design.md "Cluster MAC modes"). Part of the cluster protocol: every host must compute the
// same address from the same VIP list, and a replacement back end must too. Pure; safe from any
// thread.
//
// One cluster MAC per cluster, as Windows NLB has one per cluster IP: it is computed from the
// cluster's FIRST IPv4 VIP (a.b.c.d), whatever other VIPs (IPv4 or IPv6) the cluster has. A
// cluster without an IPv4 VIP uses the last 4 bytes of its first IPv6 VIP as a.b.c.d.
//
//   multicast  03:bf:a:b:c:d     (locally administered, group bit set)
//   unicast    02:bf:a:b:c:d     (every host's interface takes it)
//   igmp       01:00:5e:7f:c:d   (the IP multicast MAC of the group 239.255.c.d each host joins)
//   masked source, unicast mode only: 02:<host id>:a:b:c:d, so switches never learn the cluster
//   MAC from a frame a host sends and keep flooding it. Host ids 256 and 191 (0xbf, which would
//   be the cluster MAC itself) mask as 00: a masked source is never a destination, so two hosts
//   sharing one only makes a switch move it between ports.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ip_address.h"

namespace nlb {

enum class MacMode : uint8_t { kMulticast = 0, kUnicast, kIgmp };

using MacAddress = std::array<uint8_t, 6>;

std::string_view MacModeName(MacMode mode);  // "multicast", "unicast", "igmp"
// "03:bf:c6:12:00:64"
std::string FormatMac(const MacAddress& mac);

// The four bytes a.b.c.d the cluster MAC is made of; nullopt when vips holds no IPv4 or IPv6 VIP.
std::optional<std::array<uint8_t, 4>> ClusterMacSeed(std::span<const IpAddress> vips);

// What the data path needs to know about the cluster MAC of one cluster in one mode.
struct ClusterMac {
  MacMode mode = MacMode::kMulticast;
  std::array<uint8_t, 4> seed{};
  // The address ARP/NDP answers carry and clients send to.
  MacAddress mac{};
  // igmp mode: the group 239.255.c.d each host joins; kNone in the other modes.
  IpAddress igmp_group;

  bool is_group_address() const { return (mac[0] & 0x01) != 0; }
};

// nullopt when vips holds no IP address (see ClusterMacSeed).
std::optional<ClusterMac> ComputeClusterMac(std::span<const IpAddress> vips, MacMode mode);

// 02:<host id & 0xff, 0xbf -> 00>:a:b:c:d: the source MAC of frames a host sends in unicast mode.
MacAddress MaskedSourceMac(const ClusterMac& cluster, uint16_t host_id);

// The Ethernet address an IPv6 multicast group maps to (33:33 + last 4 bytes, RFC 2464).
// REQUIRES: group.is_v6().
MacAddress Ipv6MulticastMac(const IpAddress& group);
// ff02::1:ffXX:XXXX, where neighbour solicitations for address are sent (RFC 4291 2.7.1).
// REQUIRES: address.is_v6().
IpAddress SolicitedNodeGroup(const IpAddress& address);

}  // namespace nlb
