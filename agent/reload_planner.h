// ReloadPlan: what a reload of the configuration file must do, decided from the running
// configuration and the newly loaded one alone (no I/O, no clock), so that every rule about
// reloads is a table-driven unit test (tests/agent/reload_planner_test.cc).
//
// A reload either is refused (a field changed that only a restart can apply, or the cluster key
// changed) with a message an operator can act on, or yields the new configuration with what the
// agent must do to apply it: new rule numbering, rules whose state resets, renumbered rules for
// the log. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/cluster_config.h"

namespace nlb::agent {

struct RenumberedRule {
  std::string name;
  size_t from = 0;
  size_t to = 0;
};

struct ReloadPlan {
  NodeConfig next;
  // The cluster's port rules differ (content, order or number).
  bool rules_changed = false;
  // The rule names or their order differ: a new RuleNumbering epoch (common/rule_numbering.h).
  bool numbering_changed = false;
  // Kept rules whose index changes; their buckets and connections follow them by name.
  std::vector<RenumberedRule> renumbered;
};

// The first field (in a fixed order) whose change takes a restart of nlbd, or "" if none.
std::string FieldNeedingRestart(const NodeConfig& running, const NodeConfig& next);

// REQUIRES: next was validated by LoadConfigFile. running_key and next_key are the key files'
// bytes. Error kInvalidArgument naming the field when a reload cannot apply the change.
Result<ReloadPlan> PlanReload(const NodeConfig& running, const std::string& running_key,
                              NodeConfig next, const std::string& next_key);

// The rules' filtering modes and names in canonical order, as convergence takes them.
std::vector<FilteringMode> RuleModesOf(const ClusterConfig& cluster);
std::vector<std::string> RuleNamesOf(const ClusterConfig& cluster);

// "web 0 -> 1, mail 1 -> 0" for the log.
std::string DescribeRenumbering(const std::vector<RenumberedRule>& renumbered);

}  // namespace nlb::agent
