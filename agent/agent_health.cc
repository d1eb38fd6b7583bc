// The agent's health-check glue: the monitor's verdicts become announced rule weights through
// AnnounceRuleParams, the path `nlbctl drain RULE` takes (agent/health_monitor.h).
#include "agent/agent.h"

namespace nlb::agent {

void Agent::StartHealthChecks() {
  health_.reset();
  if (config_.cluster.health_checks.empty()) return;
  health_ =
      std::make_unique<HealthMonitor>(io_, config_.cluster.health_checks,
                                      [this](const std::string& line) { OnHealthResult(line); });
}

void Agent::OnHealthResult(const std::string& line) {
  if (!line.empty()) NoteEvent(line);
  // Evaluated at every result, so a change of the other members' weights (another host drained
  // or came back) is taken into account within one interval.
  const std::vector<std::string> changes =
      health_->Evaluate(convergence_->CurrentMap(), config_.cluster.port_rules, config_.host.id);
  if (changes.empty()) return;
  for (const std::string& change : changes) NoteEvent(change);
  AnnounceRuleParams();
}

}  // namespace nlb::agent
