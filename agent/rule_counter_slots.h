// RuleCounterSlots: which slot of the BPF program's per-rule counters (map nlb_rule_counters,
// common/bpf/rule_counter_layout.h) each port rule counts into. A rule keeps its slot, by name,
// for as long as a published snapshot has it, so a reload that renumbers the rules moves no
// figure to another rule's name. A new rule never takes a slot of the half in force, whose
// packets count into it until the grace period after the flip; a slot a Publish freed is given
// again from the Publish after it, whose grace period (BpfPlane::Publish waits for it first) has
// ended every packet counting into it, and BpfPlane zeroes it then. With NLB_RULE_COUNTER_SLOTS
// = 2 x NLB_MAX_RULES there is always room: at most NLB_MAX_RULES in force, NLB_MAX_RULES new.
//
// Pure; one owner (BpfPlane, on the kernel worker).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/bpf/rule_counter_layout.h"

namespace nlb::agent {

class RuleCounterSlots {
 public:
  struct Plan {
    std::vector<uint8_t> slots;  // slots[i]: rule i's
    std::vector<uint8_t> fresh;  // slots given to a rule that had none: zero them before use
    std::map<std::string, uint8_t> by_name;
  };

  // The slots of the rules `names` (a snapshot's order; a repeated name counts as another rule)
  // for the next Publish. Changes nothing until Commit.
  // REQUIRES: names.size() <= NLB_MAX_RULES.
  Plan Assign(const std::vector<std::string>& names) const;
  // The plan is in force (its half published).
  void Commit(Plan plan);

  // The slot of each rule of the plan last committed, in its order.
  const std::vector<uint8_t>& slots() const { return slots_; }

 private:
  std::map<std::string, uint8_t> by_name_;  // the committed rules'
  std::vector<uint8_t> slots_;
};

}  // namespace nlb::agent
