// OperatorState: what the operator set on this host with nlbctl (start, stop, drainstop, suspend,
// and enable / disable / drain of a port rule), as the agent keeps it across reloads (by rule
// name) and writes it to its state file so that it survives a restart of nlbd
// (docs/configuration.md, "Operator state"). This file is the pure part: the state, its text
// form, and how rule states follow a reload. Pure functions; thread-compatible values.
//
// The text form (version 1), one item per line, at most kMaxOperatorStateBytes:
//   nlb-operator-state 1
//   host <active|draining|stopped|suspended>
//   rule <name> <disabled|draining>        (one line per rule not enabled; names have no spaces)
// Rules not listed are enabled. Anything else is refused with the line that is wrong.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cluster_view.h"
#include "common/status.h"

namespace nlb {

enum class RuleState : uint8_t { kEnabled = 0, kDisabled, kDraining };
std::string_view RuleStateName(RuleState s);  // "enabled", "disabled", "draining"

inline constexpr size_t kMaxOperatorStateBytes = 64 * 1024;

struct OperatorState {
  HostRole role = HostRole::kActive;
  // Per rule name, the rules that are not enabled (in the order they were given).
  std::vector<std::pair<std::string, RuleState>> rules;
  friend bool operator==(const OperatorState&, const OperatorState&) = default;
};

std::string EncodeOperatorState(const OperatorState& state);
// kMalformed, naming the line and what is wrong, for anything that is not the text form above
// (empty, truncated, another version, an unknown word, a duplicate rule, too long, a NUL).
[[nodiscard]] Result<OperatorState> DecodeOperatorState(std::string_view text);

// The state of each rule of `names` (a rule list in canonical order) taken by name from `state`:
// a rule the state does not name is enabled. Rules the state names but `names` lacks are
// reported in *unknown (if not null), for the log.
std::vector<RuleState> RuleStatesByName(const OperatorState& state,
                                        std::span<const std::string> names,
                                        std::vector<std::string>* unknown = nullptr);
// The state to save: the host's role and every rule of names/states that is not enabled.
// REQUIRES: names.size() == states.size()
OperatorState MakeOperatorState(HostRole role, std::span<const std::string> names,
                                std::span<const RuleState> states);

}  // namespace nlb
