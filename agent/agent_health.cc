// The agent's health-check glue: the monitor's verdicts become announced rule weights through
// AnnounceRuleParams, the path `nlbctl drain RULE` takes (agent/health_monitor.h), and are
// announced themselves in the heartbeats (RuleHealth), judged against the other members' own.
#include "agent/agent.h"

namespace nlb::agent {

void Agent::StartHealthChecks() {
  health_.reset();
  // Announced again at the first result; until then (and without checks) nothing is checked.
  convergence_->SetRuleHealth({}, std::chrono::steady_clock::now());
  if (config_.cluster.health_checks.empty()) return;
  health_ =
      std::make_unique<HealthMonitor>(io_, config_.cluster.health_checks,
                                      [this](const std::string& line) { OnHealthResult(line); });
}

void Agent::OnHealthResult(const std::string& line) {
  if (!line.empty()) NoteEvent(line);
  // Evaluated at every result, so a change of the other members' weights (another host drained
  // or came back) is taken into account within one interval.
  const std::vector<std::string> changes = health_->Evaluate(
      convergence_->Report().members, config_.cluster.port_rules, config_.host.id);
  // Every result, not only at a change: after a reload that renumbered the rules this realigns
  // the announcement within one interval. Unchanged, it costs nothing.
  convergence_->SetRuleHealth(health_->Announced(config_.cluster.port_rules),
                              std::chrono::steady_clock::now());
  if (changes.empty()) return;
  for (const std::string& change : changes) NoteEvent(change);
  AnnounceRuleParams();
}

}  // namespace nlb::agent
