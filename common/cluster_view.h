// ClusterView: the members a host agrees on, with exactly the inputs of the map (id, boot, role,
// per-rule parameters), and its digest. Two hosts with equal view digests compute the same map,
// so convergence only has to make the digests agree (docs/protocol.md "Convergence").
// Plain values and pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/heartbeat.h"
#include "common/ip_address.h"
#include "common/port_rule.h"

namespace nlb {

// What the operator asked of a host; unlike HostState it says nothing about convergence.
enum class HostRole : uint8_t { kActive = 0, kDraining, kStopped, kSuspended };
std::string_view HostRoleName(HostRole role);  // "active", "draining", "stopped", "suspended"
HostRole RoleOfState(HostState state);
// The state a host of this role announces, given whether it holds the agreed map.
HostState StateOfRole(HostRole role, bool converged);

struct ViewMember {
  uint16_t host_id = 0;
  uint64_t boot_id = 0;
  IpAddress dedicated_address;  // reported, not hashed: it is no input of the map
  HostRole role = HostRole::kActive;
  std::vector<HostRuleParams> rule_params;  // canonical rule order
  friend bool operator==(const ViewMember&, const ViewMember&) = default;
};

// SHA-256 over a fixed encoding of (host id, boot id, role, rule parameters) per member.
// REQUIRES: members sorted by host_id, ids unique.
Digest ViewDigest(std::span<const ViewMember> members);

}  // namespace nlb
