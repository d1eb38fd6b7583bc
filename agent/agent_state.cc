// The operator's state across reloads and restarts (docs/configuration.md, "Operator state"):
// restored from the state file at start, saved after every change, followed by rule name across
// reloads.
#include "agent/agent.h"
#include "agent/log.h"
#include "common/operator_state.h"

namespace nlb::agent {

static_assert(static_cast<int>(RuleControl::kEnabled) == static_cast<int>(RuleState::kEnabled) &&
              static_cast<int>(RuleControl::kDisabled) == static_cast<int>(RuleState::kDisabled) &&
              static_cast<int>(RuleControl::kDraining) == static_cast<int>(RuleState::kDraining));

namespace {

std::string Describe(const OperatorState& state) {
  std::string out = "host " + std::string(HostRoleName(state.role));
  for (const auto& [name, s] : state.rules)
    out += ", rule " + name + " " + std::string(RuleStateName(s));
  return out;
}

std::vector<RuleState> StatesOf(const std::vector<RuleControl>& controls) {
  std::vector<RuleState> states;
  for (RuleControl c : controls) states.push_back(static_cast<RuleState>(c));
  return states;
}

}  // namespace

OperatorState Agent::CurrentOperatorState() const {
  return MakeOperatorState(role_, RuleNamesOf(config_.cluster), StatesOf(rule_control_));
}

void Agent::ApplyOperatorState(const OperatorState& state) {
  role_ = state.role;
  suspended_ = state.role == HostRole::kSuspended;
  std::vector<std::string> unknown;
  const std::vector<RuleState> states =
      RuleStatesByName(state, RuleNamesOf(config_.cluster), &unknown);
  for (size_t i = 0; i < states.size() && i < rule_control_.size(); ++i) {
    rule_control_[i] = static_cast<RuleControl>(states[i]);
  }
  for (const std::string& name : unknown) {
    LogWarning("state", "the operator state names rule " + name +
                            ", which the configuration does not have: ignored");
  }
}

void Agent::RestoreOperatorState() {
  const std::string path = config_.host.state_file.empty()
                               ? StateFile::DefaultPath(config_.cluster.name, config_.host.id)
                               : config_.host.state_file;
  state_file_.emplace(path);
  auto loaded = state_file_->Load();
  if (!loaded.ok()) {
    ++state_file_errors_;
    LogWarning("state", loaded.status().message() + "; starting with the configured state (" +
                            std::string(HostRoleName(role_)) + ", every rule enabled)");
    return;
  }
  const std::optional<OperatorState>& saved = loaded.value();
  if (!saved.has_value()) {
    LogInfo("state", "no operator state in " + path + " yet: starting " +
                         std::string(HostRoleName(role_)) + " (host.initial_state)");
    return;
  }
  ApplyOperatorState(*saved);
  LogNotice("state", "operator state restored from " + path + ": " + Describe(*saved) +
                         " (host.initial_state applies only without a state file)");
}

void Agent::SaveOperatorState() {
  if (!state_file_) return;
  if (Status s = state_file_->Save(CurrentOperatorState()); !s.ok()) {
    ++state_file_errors_;
    LogWarning("state", "operator state not saved: " + s.message() +
                            " (a restart would forget the last command)");
  }
}

void Agent::FollowOperatorStateAcrossReload(const std::vector<std::string>& names_before,
                                            const std::vector<RuleControl>& controls_before) {
  const OperatorState before = MakeOperatorState(role_, names_before, StatesOf(controls_before));
  rule_control_.assign(config_.cluster.port_rules.size(), RuleControl::kEnabled);
  ApplyOperatorState(before);
  const OperatorState after = CurrentOperatorState();
  if (after.role != HostRole::kActive || !after.rules.empty()) {
    LogNotice("state", "operator state kept across the reload: " + Describe(after));
  }
  SaveOperatorState();
}

}  // namespace nlb::agent
