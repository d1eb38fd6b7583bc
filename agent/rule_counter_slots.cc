#include "agent/rule_counter_slots.h"

#include <utility>

namespace nlb::agent {

RuleCounterSlots::Plan RuleCounterSlots::Assign(const std::vector<std::string>& names) const {
  Plan plan;
  // Every slot of the half in force is taken: its packets count into them until the grace period
  // after the flip to this plan's half. The half before it has had its grace period (Publish
  // waits for it before it assigns), so its other slots are free.
  std::vector<bool> taken(NLB_RULE_COUNTER_SLOTS);
  for (const auto& [key, slot] : by_name_) taken[slot] = true;
  std::map<std::string, int> seen;
  std::vector<std::string> keys;
  for (const std::string& name : names) {
    // A second rule of one name (not valid configuration, but a snapshot may say so) is its own.
    const int n = seen[name]++;
    keys.push_back(n == 0 ? name : name + '\0' + std::to_string(n));
  }
  uint32_t next = 0;
  for (const std::string& key : keys) {
    const auto kept = by_name_.find(key);
    uint8_t slot = 0;
    if (kept != by_name_.end()) {
      slot = kept->second;
    } else {
      while (next < NLB_RULE_COUNTER_SLOTS && taken[next]) ++next;
      if (next == NLB_RULE_COUNTER_SLOTS) next = 0;  // only past REQUIRES: share slot 0
      slot = static_cast<uint8_t>(next);
      taken[next] = true;
      plan.fresh.push_back(slot);
    }
    plan.slots.push_back(slot);
    plan.by_name.emplace(key, slot);
  }
  return plan;
}

void RuleCounterSlots::Commit(Plan plan) {
  by_name_ = std::move(plan.by_name);
  slots_ = std::move(plan.slots);
}

}  // namespace nlb::agent
