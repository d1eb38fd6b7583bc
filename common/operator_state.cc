#include "common/operator_state.h"

#include <algorithm>

namespace nlb {

namespace {

constexpr std::string_view kMagic = "nlb-operator-state 1";

Status Bad(size_t line, const std::string& what) {
  return Status::Error(ErrorCode::kMalformed,
                       "operator state line " + std::to_string(line) + ": " + what);
}

// Splits a line at single spaces; empty fields (two spaces) are kept so that they are refused.
std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t start = 0;
  while (true) {
    const size_t space = line.find(' ', start);
    words.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return words;
}

bool RoleOfName(std::string_view name, HostRole* role) {
  for (HostRole r :
       {HostRole::kActive, HostRole::kDraining, HostRole::kStopped, HostRole::kSuspended}) {
    if (HostRoleName(r) == name) {
      *role = r;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view RuleStateName(RuleState s) {
  switch (s) {
    case RuleState::kEnabled:
      return "enabled";
    case RuleState::kDisabled:
      return "disabled";
    case RuleState::kDraining:
      return "draining";
  }
  return "enabled";
}

std::string EncodeOperatorState(const OperatorState& state) {
  std::string out(kMagic);
  out += "\nhost ";
  out += HostRoleName(state.role);
  out += '\n';
  for (const auto& [name, rule_state] : state.rules) {
    if (rule_state == RuleState::kEnabled) continue;
    out += "rule " + name + " ";
    out += RuleStateName(rule_state);
    out += '\n';
  }
  return out;
}

Result<OperatorState> DecodeOperatorState(std::string_view text) {
  if (text.size() > kMaxOperatorStateBytes) {
    return Status::Error(ErrorCode::kMalformed, "operator state is " + std::to_string(text.size()) +
                                                    " bytes, more than " +
                                                    std::to_string(kMaxOperatorStateBytes));
  }
  if (text.find('\0') != std::string_view::npos) {
    return Status::Error(ErrorCode::kMalformed, "operator state holds a NUL byte");
  }
  if (text.empty() || text.back() != '\n') {
    return Status::Error(ErrorCode::kMalformed,
                         "operator state is empty or truncated (no final newline)");
  }
  OperatorState state;
  bool have_host = false;
  size_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (number == 1) {
      if (line != kMagic) return Bad(1, "expected '" + std::string(kMagic) + "'");
      continue;
    }
    const std::vector<std::string_view> words = Words(line);
    if (words[0] == "host" && words.size() == 2) {
      if (have_host) return Bad(number, "a second host line");
      if (!RoleOfName(words[1], &state.role)) {
        return Bad(number, "unknown host state '" + std::string(words[1]) +
                               "' (active, draining, stopped, suspended)");
      }
      have_host = true;
    } else if (words[0] == "rule" && words.size() == 3 && !words[1].empty()) {
      RuleState s;
      if (words[2] == "disabled") {
        s = RuleState::kDisabled;
      } else if (words[2] == "draining") {
        s = RuleState::kDraining;
      } else {
        return Bad(number,
                   "unknown rule state '" + std::string(words[2]) + "' (disabled, draining)");
      }
      const std::string name(words[1]);
      if (std::any_of(state.rules.begin(), state.rules.end(),
                      [&](const auto& r) { return r.first == name; })) {
        return Bad(number, "rule '" + name + "' appears twice");
      }
      state.rules.emplace_back(name, s);
    } else {
      return Bad(number, "expected 'host STATE' or 'rule NAME STATE'");
    }
  }
  if (!have_host) return Bad(number, "no host line");
  return state;
}

std::vector<RuleState> RuleStatesByName(const OperatorState& state,
                                        std::span<const std::string> names,
                                        std::vector<std::string>* unknown) {
  std::vector<RuleState> states(names.size(), RuleState::kEnabled);
  for (const auto& [name, rule_state] : state.rules) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it != names.end()) {
      states[static_cast<size_t>(it - names.begin())] = rule_state;
    } else if (unknown != nullptr) {
      unknown->push_back(name);
    }
  }
  return states;
}

OperatorState MakeOperatorState(HostRole role, std::span<const std::string> names,
                                std::span<const RuleState> states) {
  OperatorState state;
  state.role = role;
  for (size_t i = 0; i < names.size() && i < states.size(); ++i) {
    if (states[i] != RuleState::kEnabled) state.rules.emplace_back(names[i], states[i]);
  }
  return state;
}

}  // namespace nlb
