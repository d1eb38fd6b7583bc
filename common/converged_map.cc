#include "common/converged_map.h"

namespace nlb {

std::vector<size_t> MatchRulesByName(std::span<const std::string> from,
                                     std::span<const std::string> to) {
  std::vector<size_t> result(from.size(), kRuleRemoved);
  for (size_t i = 0; i < from.size(); ++i) {
    for (size_t j = 0; j < to.size(); ++j) {
      if (from[i] == to[j]) {
        result[i] = j;
        break;
      }
    }
  }
  return result;
}

std::vector<std::string> RuleNames(const ConvergedMap& map) {
  std::vector<std::string> names;
  names.reserve(map.rules.size());
  for (const RuleOwners& r : map.rules) names.push_back(r.name);
  return names;
}

ConvergedMap ComputeConvergedMap(std::span<const ViewMember> members,
                                 std::span<const FilteringMode> rule_modes,
                                 std::span<const std::string> rule_names) {
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
    owners.name = i < rule_names.size() ? rule_names[i] : std::string();
    if (owners.mode == FilteringMode::kMultipleHost) {
      weights.clear();
      for (const ViewMember& m : members) {
        if (m.role == HostRole::kActive) weights.push_back({m.host_id, m.rule_params[i].weight});
      }
      owners.bucket_owner = AssignBuckets(weights, RuleSeed(owners.name));
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

ConvergedMap RenumberMap(const ConvergedMap& map, std::span<const FilteringMode> rule_modes,
                         std::span<const std::string> rule_names) {
  ConvergedMap next;
  next.generation = map.generation;
  next.view_digest = map.view_digest;
  next.members = map.members;
  next.default_host_id = map.default_host_id;
  const std::vector<size_t> from = MatchRulesByName(rule_names, RuleNames(map));
  next.rules.resize(rule_names.size());
  for (size_t i = 0; i < rule_names.size(); ++i) {
    if (from[i] != kRuleRemoved) {
      next.rules[i] = map.rules[from[i]];
    } else {
      next.rules[i].name = rule_names[i];
      next.rules[i].mode = i < rule_modes.size() ? rule_modes[i] : FilteringMode::kDisabled;
    }
  }
  return next;
}

namespace {

// For each rule of `rules`, the index of the map's rule of the same name (kRuleRemoved if none).
std::vector<size_t> MapIndexOfRules(const ConvergedMap& map, std::span<const PortRule> rules) {
  std::vector<std::string> names;
  names.reserve(rules.size());
  for (const PortRule& r : rules) names.push_back(r.name);
  return MatchRulesByName(names, RuleNames(map));
}

}  // namespace

MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving) {
  MapSnapshot snapshot;
  snapshot.local_host_id = local_host_id;
  snapshot.default_host_id = map.default_host_id;
  snapshot.serving = serving;
  snapshot.vips = std::move(vips);
  snapshot.generation = map.generation;
  snapshot.rules.reserve(rules.size());
  const std::vector<size_t> from = MapIndexOfRules(map, rules);
  for (size_t i = 0; i < rules.size(); ++i) {
    RuleMap rule_map;
    rule_map.rule = rules[i];
    if (from[i] != kRuleRemoved) {
      const RuleOwners& owners = map.rules[from[i]];
      rule_map.bucket_owner = owners.bucket_owner;
      rule_map.single_owner = owners.single_owner;
      rule_map.enabled = owners.mode != FilteringMode::kDisabled;
    }
    snapshot.rules.push_back(std::move(rule_map));
  }
  return snapshot;
}

MapSnapshot ToMapSnapshot(const ConvergedMap& map, std::span<const PortRule> rules,
                          std::vector<IpAddress> vips, uint16_t local_host_id, bool serving,
                          std::span<const std::shared_ptr<const BucketSet>> moving,
                          std::span<const std::shared_ptr<const BucketSet>> pending) {
  MapSnapshot snapshot = ToMapSnapshot(map, rules, std::move(vips), local_host_id, serving);
  const std::vector<size_t> from = MapIndexOfRules(map, rules);
  for (size_t i = 0; i < snapshot.rules.size(); ++i) {
    const size_t m = from[i];
    if (m == kRuleRemoved || snapshot.rules[i].bucket_owner.empty()) continue;
    if (m < moving.size()) snapshot.rules[i].moving = moving[m];
    if (m < pending.size()) snapshot.rules[i].pending = pending[m];
  }
  return snapshot;
}

}  // namespace nlb
