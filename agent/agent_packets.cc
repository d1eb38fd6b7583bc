// agent_packets.cc: the data path's decision counters as the agent shows them, whichever back end
// decided: the report's "packets" object (totals, by reason, malformed, and per rule), and each
// rule's accepted and dropped figures, which the report, status.json and /metrics read alike, so
// that the three agree. Loop thread.
#include <atomic>

#include "agent/agent.h"

namespace nlb::agent {

std::vector<Agent::RuleFigures> Agent::ReadRuleFigures(const MapSnapshot& snapshot,
                                                       const DecisionTotals& d) const {
  // The capture's per-rule figures are indexed in the data path's numbering, which trails the
  // snapshot's after a reload until its next round: read them only when both are the same
  // before and after the reads.
  const bool by_index = bpf_ != nullptr || snapshot.numbering == nullptr;
  const uint64_t numbering = by_index ? 0 : snapshot.numbering->epoch;
  const bool was_current = by_index || data_path_->decisions_epoch() == numbering;
  std::vector<RuleFigures> figures;
  for (size_t i = 0; i < snapshot.rules.size(); ++i) {
    const std::string& name = snapshot.rules[i].rule.name;
    figures.push_back({d.ReadRulePackets(i, name, true), d.ReadRuleBytes(i, name, true),
                       d.ReadRulePackets(i, name, false), d.ReadRuleBytes(i, name, false)});
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  if (was_current && (by_index || data_path_->decisions_epoch() == numbering)) {
    rule_figures_.clear();
    for (size_t i = 0; i < figures.size(); ++i) {
      rule_figures_[snapshot.rules[i].rule.name] = figures[i];
    }
  } else {
    // What was last read of each rule, so no rule's counters go back (a new rule: 0).
    for (size_t i = 0; i < figures.size(); ++i) {
      const auto last = rule_figures_.find(snapshot.rules[i].rule.name);
      figures[i] = last != rule_figures_.end() ? last->second : RuleFigures{};
    }
  }
  return figures;
}

void Agent::ReportPackets(JsonWriter& w, const MapSnapshot& snapshot) const {
  w.Key("packets").BeginObject();
  const DecisionTotals d = Decisions();
  uint64_t accepted = 0, dropped = 0, accepted_bytes = 0, dropped_bytes = 0;
  for (size_t i = 0; i < static_cast<size_t>(DecisionReason::kCount); ++i) {
    const auto reason = static_cast<DecisionReason>(i);
    // Frames not for a VIP are left to the stack, untouched (the BPF program sees every frame
    // of the interface), and neighbour requests are answered: neither is a drop.
    if (reason == DecisionReason::kNotForVip || reason == DecisionReason::kNeighbourRequest) {
      continue;
    }
    const bool accept = IsAcceptReason(reason);
    (accept ? accepted : dropped) += d.ReadPackets(reason);
    (accept ? accepted_bytes : dropped_bytes) += d.ReadBytes(reason);
  }
  w.Key("accepted").Uint(accepted).Key("accepted_bytes").Uint(accepted_bytes);
  w.Key("dropped").Uint(dropped).Key("dropped_bytes").Uint(dropped_bytes);
  w.Key("not_for_vip").Uint(d.ReadPackets(DecisionReason::kNotForVip));
  w.Key("by_reason").BeginObject();
  for (size_t i = 0; i < static_cast<size_t>(DecisionReason::kCount); ++i) {
    const auto reason = static_cast<DecisionReason>(i);
    w.Key(DecisionReasonName(reason)).BeginObject().Key("packets").Uint(d.ReadPackets(reason));
    w.Key("bytes").Uint(d.ReadBytes(reason)).EndObject();
  }
  w.EndObject();
  w.Key("malformed").BeginObject();
  for (size_t i = 1; i < static_cast<size_t>(ParseVerdict::kCount); ++i) {
    const auto v = static_cast<ParseVerdict>(i);
    w.Key(ParseVerdictName(v)).Uint(d.ReadMalformed(v));
  }
  w.EndObject();
  // Per rule, in the names of the totals above. A table of its own beside the report's "rules"
  // (buckets) and "connections.rules" (tracked): joined to either, the view passes 100 columns.
  w.Key("rules").BeginArray();
  const std::vector<RuleFigures> figures = ReadRuleFigures(snapshot, d);
  for (size_t i = 0; i < figures.size(); ++i) {
    const RuleFigures& f = figures[i];
    w.BeginObject().Key("name").String(snapshot.rules[i].rule.name);
    w.Key("accepted").Uint(f.accepted_packets).Key("accepted_bytes").Uint(f.accepted_bytes);
    w.Key("dropped").Uint(f.dropped_packets).Key("dropped_bytes").Uint(f.dropped_bytes);
    w.EndObject();
  }
  w.EndArray().EndObject();
}

}  // namespace nlb::agent
