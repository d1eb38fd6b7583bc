/* The per-rule counters' map layout, shared by the BPF program (agent/bpf/nlb_tc.bpf.c) and its
 * loader (agent/bpf_plane.h) like the rest of flow_key_layout.h, whose types, nlb_counter and
 * assertion macros it uses. Plain numbers and one inline function: any thread.
 *
 * Map "nlb_rule_counters", a per-CPU array of struct nlb_counter {packets, bytes}: two entries
 * per counter slot, [slot][accepted], bumped once per frame that a rule decided (Decide()'s
 * rule_index >= 0), as DecisionCounters counts per rule on the capture back end. A rule's slot is
 * nlb_rule.counter_slot, which the loader keeps with the rule's name across reloads that renumber
 * the rules, so a rule's figures stay its own. Twice as many slots as rules: a slot a reload
 * frees is given to a new rule only at a later Publish, after the grace period that ends every
 * packet still counting into it under the old half, and zeroed then. */
#ifndef NLB_COMMON_BPF_RULE_COUNTER_LAYOUT_H_
#define NLB_COMMON_BPF_RULE_COUNTER_LAYOUT_H_

#include "common/bpf/flow_key_layout.h"

#define NLB_RULE_COUNTER_SLOTS (2 * NLB_MAX_RULES)
#define NLB_RULE_COUNTER_ENTRIES (2 * NLB_RULE_COUNTER_SLOTS)

NLB_STATIC_ASSERT((NLB_RULE_COUNTER_SLOTS & (NLB_RULE_COUNTER_SLOTS - 1)) == 0,
                  "the program masks the slot with NLB_RULE_COUNTER_SLOTS - 1");
NLB_STATIC_ASSERT(NLB_RULE_COUNTER_SLOTS <= 256, "nlb_rule.counter_slot is a byte");

NLB_INLINE nlb_u32 nlb_rule_counter_key(nlb_u32 slot, nlb_u32 accepted) {
  return (slot & (NLB_RULE_COUNTER_SLOTS - 1)) * 2 + (accepted ? 1 : 0);
}

#endif /* NLB_COMMON_BPF_RULE_COUNTER_LAYOUT_H_ */
