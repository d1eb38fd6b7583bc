// ConvergedMap: who owns what once the cluster agrees on a view, computed from that view alone
// (docs/protocol.md "Map"). Because it is a pure function of (members, roles, weights, rule
// modes), a host that just joined computes the same map as one that has served for days.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bucket_assignment.h"
#include "common/cluster_view.h"
#include "common/map_snapshot.h"
#include "common/port_rule.h"

namespace nlb {

struct RuleOwners {
  std::string name;  // the rule's identity: its seed, and how a later map finds it
  FilteringMode mode = FilteringMode::kMultipleHost;
  std::vector<uint16_t> bucket_owner;  // kMultipleHost: kBucketCount owners; otherwise empty
  uint16_t single_owner = kNoHost;     // kSingleHost: best-priority serving member
};

struct ConvergedMap {
  uint64_t generation = 0;  // set by Convergence: increases with every agreement
  Digest view_digest{};
  std::vector<ViewMember> members;  // sorted by host id
  uint16_t default_host_id = kNoHost;
  std::vector<RuleOwners> rules;  // canonical rule order
};

// Where each rule of `from` is in `to`, matched by name (docs/connection-tracking.md, "Reloads
// that renumber a rule"): result[i] is the index in `to` of the rule named from[i], or
// kRuleRemoved when `to` has no rule of that name.
inline constexpr size_t kRuleRemoved = SIZE_MAX;
std::vector<size_t> MatchRulesByName(std::span<const std::string> from,
                                     std::span<const std::string> to);
std::vector<std::string> RuleNames(const ConvergedMap& map);

// Only active members own anything: stopped and suspended hosts are members for heartbeats
// only, and draining ones take no new buckets. The connections a draining host (or any host
// that lost buckets) still serves are not the map's business: they travel as moving buckets
// (MovingBuckets, docs/connection-tracking.md), so the map stays a pure function of the view.
//   multiple-host rule i: AssignBuckets(active members with their weight for rule i,
//                         RuleSeed(rule_names[i]))
//   single-host rule:     the active member with the lowest priority value, ties by lower id
//   default host:         the active member with the lowest id
// REQUIRES: members sorted by host id, unique ids, each with rule_params.size() ==
// rule_modes.size() == rule_names.size().
ConvergedMap ComputeConvergedMap(std::span<const ViewMember> members,
                                 std::span<const FilteringMode> rule_modes,
                                 std::span<const std::string> rule_names);

// The same map under a reloaded rule list, before the cluster has agreed on a map for it: a kept
// rule (same name) keeps its owners at its new position, a removed rule is gone, and a new rule
// owns nothing yet (its traffic drops until the next map; no connection can exist under it).
// The generation and view are kept. REQUIRES: rule_modes.size() == rule_names.size().
ConvergedMap RenumberMap(const ConvergedMap& map, std::span<const FilteringMode> rule_modes,
                         std::span<const std::string> rule_names);

// The snapshot the data path decides by, in the order of `rules` (the configuration's port rules,
// canonical: rules for one VIP before rules for "all"). Each rule takes the owners of the map's
// rule of the same name; a rule the map does not have owns nothing (its traffic drops).
MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving);
// The same with connection tracking's bitsets, per rule of the map (Convergence::MovingSnapshot
// and PendingSnapshot), which follow their rule by name as the owners do.
MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving,
                          std::span<const std::shared_ptr<const BucketSet>> moving,
                          std::span<const std::shared_ptr<const BucketSet>> pending);

}  // namespace nlb
