// ConvergedMap: who owns what once the cluster agrees on a view, computed from that view alone
// (docs/protocol.md "Map"). Because it is a pure function of (members, roles, weights, rule
// modes), a host that just joined computes the same map as one that has served for days.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/bucket_assignment.h"
#include "common/cluster_view.h"
#include "common/map_snapshot.h"
#include "common/port_rule.h"

namespace nlb {

struct RuleOwners {
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

// Only active members own anything: stopped and suspended hosts are members for heartbeats
// only, and draining ones take no new buckets. The connections a draining host (or any host
// that lost buckets) still serves are not the map's business: they travel as moving buckets
// (MovingBuckets, docs/connection-tracking.md), so the map stays a pure function of the view.
//   multiple-host rule i: AssignBuckets(active members with their weight for rule i, seed i)
//   single-host rule:     the active member with the lowest priority value, ties by lower id
//   default host:         the active member with the lowest id
// REQUIRES: members sorted by host id, unique ids, each with rule_params.size() ==
// rule_modes.size().
ConvergedMap ComputeConvergedMap(std::span<const ViewMember> members,
                                 std::span<const FilteringMode> rule_modes);

// The snapshot the data path decides by. rules are the configuration's port rules in the same
// canonical order as the map's (rules for one VIP before rules for "all").
// REQUIRES: rules.size() == map.rules.size()
MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving);
// The same with connection tracking's bitsets, per rule (Convergence::MovingSnapshot and
// PendingSnapshot).
MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving,
                          std::span<const std::shared_ptr<const BucketSet>> moving,
                          std::span<const std::shared_ptr<const BucketSet>> pending);

}  // namespace nlb
