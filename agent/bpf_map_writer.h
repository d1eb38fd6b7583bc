// BpfMapWriter: a MapSnapshot -> one half of the BPF data plane's maps (docs/bpf-data-plane.md):
// the nlb_config entry (host ids, serving, VIPs, rules in the snapshot's order) and the rules'
// bucket blocks (owner and moving/pending flags per bucket). Pure: it writes into memory the
// caller gives (BpfPlane's mapping of the inactive half, or a plain buffer in tests), so it
// never touches the half the program is reading. Any thread; one writer per buffer.
#pragma once

#include <cstdint>
#include <span>

#include "common/bpf/flow_key_layout.h"
#include "common/map_snapshot.h"
#include "common/status.h"

namespace nlb::agent {

// Fills *config from snapshot, and buckets[i] for every multiple-host rule i that has owners.
// Rule i counts into counter slot counter_slots[i] (agent/rule_counter_slots.h); with no slots
// given, into slot i. kInvalidArgument (nothing meaningful written) when the snapshot has more
// than NLB_MAX_RULES rules or NLB_MAX_VIPS VIPs, or a VIP or rule VIP of no family.
// REQUIRES: buckets.size() == NLB_MAX_RULES; counter_slots empty or one per rule.
[[nodiscard]] Status WriteMapHalf(const MapSnapshot& snapshot, nlb_config* config,
                                  std::span<nlb_rule_buckets> buckets,
                                  std::span<const uint8_t> counter_slots = {});

}  // namespace nlb::agent
