// The nftables scripts of nlbd's netdev table, as text (pure functions; any thread). The table
// nlb_<cluster>_<interface> (per network namespace) holds:
//
//  * the diversion: an ingress chain on the cluster interface that drops IPv4/IPv6 packets to a
//    VIP and ARP requests for a VIP. Packet taps see a frame before the netdev ingress hook, so
//    the capture still gets every one of them and the owned ones re-enter the stack through the
//    TUN device (docs/data-path.md).
//  * the kernel fast path (common/fast_path.h): before those drops, per port rule an accept line
//    that computes the same jhash bucket as Decide() and accepts (`meta pkttype set host`) the
//    packets whose bucket is in the rule's set fp<i> (a single-host rule: while set fw<i> holds
//    the interface's name), each followed by a drop of the rest of that rule's traffic (so that
//    no later, wider rule takes it). The chain changes only with the rules; a map switch only
//    adds and deletes set elements, in one transaction.
//  * the kernel lease: every accept line also requires the interface's name in set `lease`,
//    whose one element carries a timeout that the agent renews with each heartbeat. If nlbd stops
//    renewing it (its loop or the whole process stalls), the kernel stops delivering by itself
//    before the peers' tolerance runs out (docs/protocol.md, "The lease").
//  * unicast mode: an egress chain that rewrites the Ethernet source of frames leaving with the
//    cluster MAC to the host's masked source MAC, so switches never learn the cluster MAC.
//
// Accepted packets are counted in the table's named counter `fast_path`.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/cluster_mac.h"
#include "common/fast_path.h"
#include "common/ip_address.h"
#include "common/port_rule.h"

namespace nlb::agent {

struct DiversionOptions {
  std::string cluster_name = "nlb";
  std::string interface;
  std::vector<IpAddress> vips;
  // Unicast mode: frames leaving with source `cluster_mac` get `masked_source` instead.
  std::optional<MacAddress> cluster_mac;
  std::optional<MacAddress> masked_source;
};

// nlb_<cluster>_<interface>, with every character nft does not take in a name replaced by '_'.
std::string NftTableName(const DiversionOptions& options);

// The whole table for these rules (canonical order), with the kernel delivering `fast` (aligned
// with rules; may be empty) and no lease: replaces a table of that name if there is one
// ("add, delete, add" succeeds either way). Used at start and to repair.
std::string NftTableScript(const DiversionOptions& options, const std::vector<PortRule>& rules,
                           const std::vector<FastPathRule>& fast);

// Replaces the ingress chain and the rule sets for a reload that changed the rules, keeping the
// table, its counter and its lease. old_rules: how many rules the chain was built for.
std::string NftRulesScript(const DiversionOptions& options, size_t old_rules,
                           const std::vector<PortRule>& rules,
                           const std::vector<FastPathRule>& fast);

// The set elements that take the kernel from delivering `from` to delivering `to`, both aligned
// with the rules the chain was built for (entry i is rule i's): "" when they are equal.
std::string NftBucketsScript(const DiversionOptions& options, const std::vector<FastPathRule>& from,
                             const std::vector<FastPathRule>& to);

// fast laid out along rules (entry i is rules[i]'s, matched by PortRule equality; empty if none).
std::vector<FastPathRule> AlignedToRules(const std::vector<PortRule>& rules,
                                         const std::vector<FastPathRule>& fast);

// Grants the kernel lease for `remaining` from now (0 or less: withdraws it).
std::string NftLeaseScript(const DiversionOptions& options, std::chrono::milliseconds remaining);

// The listing of the chains that repair compares: "list chain ... ingress" (and egress).
std::string NftListChainsScript(const DiversionOptions& options);

}  // namespace nlb::agent
