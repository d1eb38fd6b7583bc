// PortRule: which traffic a rule covers (VIP, port range, protocol) and how the cluster handles
// it (filtering mode, affinity), in Windows NLB's model. Shared by config/ (which builds and
// validates rules), the map snapshot and the decision. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace nlb {

enum class Protocol : uint8_t { kTcp = 0, kUdp, kBoth };
enum class FilteringMode : uint8_t { kMultipleHost = 0, kSingleHost, kDisabled };
enum class Affinity : uint8_t { kNone = 0, kSingle, kNetwork };

std::string_view ProtocolName(Protocol p);            // "tcp", "udp", "both"
std::string_view FilteringModeName(FilteringMode m);  // "multiple", "single", "disabled"
std::string_view AffinityName(Affinity a);            // "none", "single", "network"

inline constexpr uint8_t kDefaultIpv6NetworkPrefix = 64;

struct PortRule {
  std::string name;              // unique within the cluster; used by host overrides and nlbctl
  std::optional<IpAddress> vip;  // nullopt: every VIP of the cluster ("all")
  uint16_t first_port = 0;
  uint16_t last_port = 65535;
  Protocol protocol = Protocol::kBoth;
  FilteringMode mode = FilteringMode::kMultipleHost;
  Affinity affinity = Affinity::kSingle;
  uint8_t ipv6_network_prefix = kDefaultIpv6NetworkPrefix;  // for Affinity::kNetwork on IPv6

  // True when a packet to (destination, ip_protocol, port) falls under this rule.
  bool Covers(const IpAddress& destination, uint8_t ip_protocol, uint16_t port) const;
  // True when some packet would fall under both rules: same VIP (or both "all"), overlapping
  // port ranges and overlapping protocols. A rule for one VIP does not overlap an "all" rule:
  // the specific rule takes precedence, as in Windows NLB.
  bool Overlaps(const PortRule& other) const;
  // "198.18.0.100:80-80/tcp" or "all:0-65535/both"
  std::string Describe() const;

  friend bool operator==(const PortRule&, const PortRule&) = default;
};

// What a rule hashes its clients by (its affinity, and the IPv6 prefix of affinity network).
// A reload that changes it gives most clients another bucket, so every bucket of the rule moves
// (docs/connection-tracking.md, "Affinity changes").
struct ClientKey {
  Affinity affinity = Affinity::kSingle;
  uint8_t ipv6_network_prefix = kDefaultIpv6NetworkPrefix;  // meaningful for kNetwork only

  // Keys that put every client in the same bucket are equal (the prefix matters for kNetwork).
  friend bool operator==(const ClientKey& a, const ClientKey& b) {
    return a.affinity == b.affinity &&
           (a.affinity != Affinity::kNetwork || a.ipv6_network_prefix == b.ipv6_network_prefix);
  }
};
inline ClientKey ClientKeyOf(const PortRule& rule) {
  return {rule.affinity, rule.ipv6_network_prefix};
}
std::vector<ClientKey> ClientKeysOf(std::span<const PortRule> rules);
// The rules of `after` whose client key differs from the rule of the same name in `before`,
// for the log: "web (affinity none -> single), api (affinity network /64 -> /56)"; "" if none.
std::string DescribeClientKeyChanges(std::span<const PortRule> before,
                                     std::span<const PortRule> after);

// A host's parameters for one rule: load weight for multiple-host rules (0..100; 0 takes no
// buckets), handling priority for single-host rules (1..32, lower wins, unique in the cluster).
struct HostRuleParams {
  uint32_t weight = 50;
  uint32_t priority = 1;
  friend bool operator==(const HostRuleParams&, const HostRuleParams&) = default;
};

}  // namespace nlb
