#include "common/converged_map.h"

namespace nlb {

ConvergedMap ComputeConvergedMap(std::span<const ViewMember> members,
                                 std::span<const FilteringMode> rule_modes) {
  ConvergedMap map;
  map.members.assign(members.begin(), members.end());
  map.view_digest = ViewDigest(members);
  for (const ViewMember& m : members) {
    if (m.role == HostRole::kActive) {
      map.default_host_id = m.host_id;
      break;
    }
  }
  map.rules.resize(rule_modes.size());
  std::vector<MemberWeight> weights;
  for (size_t i = 0; i < rule_modes.size(); ++i) {
    RuleOwners& owners = map.rules[i];
    owners.mode = rule_modes[i];
    if (owners.mode == FilteringMode::kMultipleHost) {
      weights.clear();
      for (const ViewMember& m : members) {
        if (m.role == HostRole::kActive) weights.push_back({m.host_id, m.rule_params[i].weight});
      }
      owners.bucket_owner = AssignBuckets(weights, static_cast<uint32_t>(i));
    } else if (owners.mode == FilteringMode::kSingleHost) {
      uint32_t best_priority = 0;
      for (const ViewMember& m : members) {  // ascending ids: a tie keeps the lower id
        if (m.role != HostRole::kActive) continue;
        if (owners.single_owner == kNoHost || m.rule_params[i].priority < best_priority) {
          owners.single_owner = m.host_id;
          best_priority = m.rule_params[i].priority;
        }
      }
    }
  }
  return map;
}

MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving) {
  MapSnapshot snapshot;
  snapshot.local_host_id = local_host_id;
  snapshot.default_host_id = map.default_host_id;
  snapshot.serving = serving;
  snapshot.vips = std::move(vips);
  snapshot.generation = map.generation;
  snapshot.rules.reserve(rules.size());
  for (size_t i = 0; i < rules.size() && i < map.rules.size(); ++i) {
    RuleMap rule_map;
    rule_map.rule = rules[i];
    rule_map.bucket_owner = map.rules[i].bucket_owner;
    rule_map.single_owner = map.rules[i].single_owner;
    rule_map.enabled = map.rules[i].mode != FilteringMode::kDisabled;
    snapshot.rules.push_back(std::move(rule_map));
  }
  return snapshot;
}

MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving,
                          std::span<const std::shared_ptr<const BucketSet>> moving,
                          std::span<const std::shared_ptr<const BucketSet>> pending) {
  MapSnapshot snapshot = ToMapSnapshot(map, rules, std::move(vips), local_host_id, serving);
  for (size_t i = 0; i < snapshot.rules.size() && i < moving.size(); ++i) {
    if (!snapshot.rules[i].bucket_owner.empty()) snapshot.rules[i].moving = moving[i];
  }
  for (size_t i = 0; i < snapshot.rules.size() && i < pending.size(); ++i) {
    if (!snapshot.rules[i].bucket_owner.empty()) snapshot.rules[i].pending = pending[i];
  }
  return snapshot;
}

}  // namespace nlb
