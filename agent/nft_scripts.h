// The nftables scripts of nlbd's netdev table, as text (pure functions; any thread). The table
// nlb_<cluster>_<interface> (per network namespace) holds:
//
//  * the diversion (the capture back end; on the BPF back end the VIP list is empty and the
//    ingress chain holds nothing): an ingress chain on the cluster interface that drops
//    IPv4/IPv6 packets to a VIP, VLAN-tagged ones included, and ARP requests for a VIP, so that
//    the local stack never takes a VIP frame itself. Packet taps see a frame before the netdev
//    ingress hook, so the capture still gets every one of them, decides it, and writes the owned
//    ones to the TUN device (docs/data-path.md). Nothing in the table delivers a packet.
//  * unicast mode: an egress chain that rewrites the Ethernet source of frames leaving with the
//    cluster MAC to the host's masked source MAC, so switches never learn the cluster MAC.
//
// The table does not depend on the port rules or the map: it is written at start, and again
// only to repair it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/cluster_mac.h"
#include "common/ip_address.h"

namespace nlb::agent {

struct DiversionOptions {
  std::string cluster_name = "nlb";
  std::string interface;
  std::vector<IpAddress> vips;  // empty: the ingress chain drops nothing (the BPF back end)
  // Unicast mode: frames leaving with source `cluster_mac` get `masked_source` instead.
  std::optional<MacAddress> cluster_mac;
  std::optional<MacAddress> masked_source;
};

// nlb_<cluster>_<interface>, with every character nft does not take in a name replaced by '_'.
std::string NftTableName(const DiversionOptions& options);

// The whole table: replaces a table of that name if there is one ("add, delete, add" succeeds
// either way), such as one an older or crashed nlbd left. Used at start and to repair.
std::string NftTableScript(const DiversionOptions& options);

// The listing of the chains that repair compares: "list chain ... ingress" (and egress).
std::string NftListChainsScript(const DiversionOptions& options);

}  // namespace nlb::agent
