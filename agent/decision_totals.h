// DecisionTotals: the data path's decision counters as `nlbctl report`, /metrics and the status
// page show them, whichever back end decided (docs/data-path.md): the capture's DecisionCounters,
// or the BPF program's per-CPU counters as the kernel worker last read them (BpfSwitch::Check).
// Per rule: each rule's own figures whatever a reload did to its index (the capture's data path
// renumbers DecisionCounters; the BPF program counts by a slot kept with the rule's name, and its
// figures come with the names, so a reload the kernel worker has not read since is no matter). The
// BPF program sees every frame at the interface, so its not_for_vip and malformed counts include
// frames the capture's filter never passes. A plain copy; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/bpf_plane.h"
#include "common/decision.h"

namespace nlb::agent {

// The reasons whose packets this host serves: the report's "accepted", the metrics' verdict.
inline bool IsAcceptReason(DecisionReason reason) {
  return reason == DecisionReason::kOwnedBucket || reason == DecisionReason::kSingleHostOwner ||
         reason == DecisionReason::kDefaultHost || reason == DecisionReason::kTrackedConnection;
}

class DecisionTotals {
 public:
  static DecisionTotals Of(const DecisionCounters& d);
  static DecisionTotals Of(const BpfPlane::Counters& c);

  uint64_t ReadPackets(DecisionReason r) const { return packets_[static_cast<size_t>(r)]; }
  uint64_t ReadBytes(DecisionReason r) const { return bytes_[static_cast<size_t>(r)]; }
  uint64_t ReadMalformed(ParseVerdict v) const { return malformed_[static_cast<size_t>(v)]; }
  // Rule `index` of the snapshot in force, named `name`.
  uint64_t ReadRulePackets(size_t index, std::string_view name, bool accepted) const {
    if (per_rule_ != nullptr) return per_rule_->ReadRulePackets(index, accepted);
    const BpfPlane::Counters::Rule* r = Find(index, name);
    return r != nullptr ? Of(*r, accepted).packets : 0;
  }
  uint64_t ReadRuleBytes(size_t index, std::string_view name, bool accepted) const {
    if (per_rule_ != nullptr) return per_rule_->ReadRuleBytes(index, accepted);
    const BpfPlane::Counters::Rule* r = Find(index, name);
    return r != nullptr ? Of(*r, accepted).bytes : 0;
  }

 private:
  static constexpr size_t kReasons = static_cast<size_t>(DecisionReason::kCount);
  static constexpr size_t kVerdicts = static_cast<size_t>(ParseVerdict::kCount);
  static_assert(kReasons == NLB_REASON_COUNT && kVerdicts == NLB_PARSE_COUNT);
  std::array<uint64_t, kReasons> packets_{};
  std::array<uint64_t, kReasons> bytes_{};
  std::array<uint64_t, kVerdicts> malformed_{};
  // By name: the kernel worker's last read may be of another numbering than the snapshot's.
  const BpfPlane::Counters::Rule* Find(size_t index, std::string_view name) const {
    if (index < by_rule_.size() && by_rule_[index].name == name) return &by_rule_[index];
    for (const BpfPlane::Counters::Rule& r : by_rule_) {
      if (r.name == name) return &r;
    }
    return nullptr;  // a rule the kernel has not counted yet
  }
  static const nlb_counter& Of(const BpfPlane::Counters::Rule& r, bool accepted) {
    return accepted ? r.accepted : r.dropped;
  }
  const DecisionCounters* per_rule_ = nullptr;     // the capture's; outlives this copy
  std::vector<BpfPlane::Counters::Rule> by_rule_;  // the BPF program's
};

inline DecisionTotals DecisionTotals::Of(const DecisionCounters& d) {
  DecisionTotals t;
  for (size_t i = 0; i < kReasons; ++i) {
    t.packets_[i] = d.ReadPackets(static_cast<DecisionReason>(i));
    t.bytes_[i] = d.ReadBytes(static_cast<DecisionReason>(i));
  }
  for (size_t i = 0; i < kVerdicts; ++i)
    t.malformed_[i] = d.ReadMalformed(static_cast<ParseVerdict>(i));
  t.per_rule_ = &d;
  return t;
}

inline DecisionTotals DecisionTotals::Of(const BpfPlane::Counters& c) {
  DecisionTotals t;
  for (size_t i = 0; i < kReasons; ++i) {
    t.packets_[i] = c.by_reason[i].packets;
    t.bytes_[i] = c.by_reason[i].bytes;
  }
  for (size_t i = 0; i < kVerdicts; ++i) t.malformed_[i] = c.malformed[i];
  t.by_rule_ = c.by_rule;
  return t;
}

}  // namespace nlb::agent
