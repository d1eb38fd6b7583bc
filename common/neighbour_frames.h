// Neighbour frames: the ARP replies, gratuitous ARPs and IPv6 neighbour advertisements by which a
// host tells clients that a VIP lives at the cluster MAC. Pure byte building, no I/O: the agent's
// NeighbourResponder sends what these return. Safe from any thread; allocates nothing.
//
// Every frame is untagged Ethernet II (a cluster on a tagged VLAN runs on its VLAN
// sub-interface, where frames are untagged; docs/packet-parsing.md). The link-layer
// address announced (ARP sender hardware address, NDP target link-layer address option) is always
// the cluster MAC; the Ethernet source is given separately because it must not be a group address
// (multicast and igmp modes use the host's own MAC) and, in unicast mode, must be the masked
// source so that switches never learn the cluster MAC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/cluster_mac.h"
#include "common/ip_address.h"
#include "common/packet.h"

namespace nlb {

// Large enough for every frame below (ARP: 60 bytes with padding; advertisement: 86 bytes).
inline constexpr size_t kNeighbourFrameCapacity = 96;

struct NeighbourIdentity {
  MacAddress frame_source{};  // Ethernet source of every frame sent
  MacAddress cluster_mac{};   // the address announced for every VIP
};

// ARP reply telling requester that vip is at the cluster MAC, sent to requester_mac.
// REQUIRES: vip.is_v4(), requester_ip.is_v4(), out.size() >= kNeighbourFrameCapacity.
// Returns the frame length.
size_t BuildArpReply(const NeighbourIdentity& id, const IpAddress& vip,
                     const MacAddress& requester_mac, const IpAddress& requester_ip,
                     std::span<uint8_t> out);

// Broadcast gratuitous ARP request (sender and target protocol address both vip): refreshes the
// caches of every host on the link after a start or a MAC change.
// REQUIRES: vip.is_v4(), out.size() >= kNeighbourFrameCapacity.
size_t BuildGratuitousArp(const NeighbourIdentity& id, const IpAddress& vip,
                          std::span<uint8_t> out);

// Solicited neighbour advertisement (flags S and O) for vip, sent from vip to requester_ip at
// requester_mac. A solicitation from the unspecified address (duplicate address detection) gets
// an unsolicited advertisement to all nodes instead, as RFC 4861 7.2.4 asks.
// REQUIRES: vip.is_v6(), requester_ip.is_v6(), out.size() >= kNeighbourFrameCapacity.
size_t BuildNeighbourAdvertisement(const NeighbourIdentity& id, const IpAddress& vip,
                                   const MacAddress& requester_mac, const IpAddress& requester_ip,
                                   std::span<uint8_t> out);

// Unsolicited neighbour advertisement (flag O) for vip to all nodes (ff02::1).
// REQUIRES: vip.is_v6(), out.size() >= kNeighbourFrameCapacity.
size_t BuildUnsolicitedAdvertisement(const NeighbourIdentity& id, const IpAddress& vip,
                                     std::span<uint8_t> out);

// The answer to a request the decision gave Verdict::kNeighbour: an ARP reply for an ARP request,
// an advertisement for a neighbour solicitation. The requester's MAC is the request's Ethernet
// source. Returns 0 when request is neither (nothing to send).
// REQUIRES: out.size() >= kNeighbourFrameCapacity.
size_t BuildNeighbourAnswer(const NeighbourIdentity& id, const ParsedPacket& request,
                            std::span<uint8_t> out);

}  // namespace nlb
