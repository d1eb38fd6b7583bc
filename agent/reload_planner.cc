#include "agent/reload_planner.h"

namespace nlb::agent {

std::string FieldNeedingRestart(const NodeConfig& running, const NodeConfig& next) {
  const ClusterConfig& cur = running.cluster;
  const ClusterConfig& nxt = next.cluster;
  if (nxt.name != cur.name) return "cluster.name";
  if (nxt.vips != cur.vips) return "cluster.vips";
  if (nxt.mac_mode != cur.mac_mode) return "cluster.mac_mode";
  if (nxt.heartbeat.period_ms != cur.heartbeat.period_ms ||
      nxt.heartbeat.tolerance != cur.heartbeat.tolerance ||
      nxt.heartbeat.port != cur.heartbeat.port) {
    return "cluster.heartbeat";
  }
  if (nxt.control.remote != cur.control.remote || nxt.control.port != cur.control.port) {
    return "cluster.control";
  }
  if (nxt.connection_tracking != cur.connection_tracking) return "cluster.connection_tracking";
  if (next.host.id != running.host.id) return "host.id";
  if (next.host.interface != running.host.interface) return "host.interface";
  if (next.host.dedicated_address != running.host.dedicated_address) {
    return "host.dedicated_address";
  }
  // The back end is chosen once at start (docs/data-path.md).
  if (next.host.data_path != running.host.data_path) return "host.data_path";
  // The HTTP listener is bound once at start: refuse to change it rather than ignore it.
  const HttpListenConfig& h = running.host.http;
  const HttpListenConfig& n = next.host.http;
  if (n.enabled != h.enabled || n.address != h.address || n.port != h.port ||
      n.max_connections != h.max_connections) {
    return "host.http";
  }
  return "";
}

Result<ReloadPlan> PlanReload(const NodeConfig& running, const std::string& running_key,
                              NodeConfig next, const std::string& next_key) {
  if (std::string field = FieldNeedingRestart(running, next); !field.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "reload refused: " + field +
                             " changed, which takes a restart of nlbd; the running configuration "
                             "stays in force");
  }
  if (next_key != running_key) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "reload refused: the cluster key changed, which takes a restart of nlbd");
  }
  ReloadPlan plan;
  const std::vector<PortRule>& cur = running.cluster.port_rules;
  const std::vector<PortRule>& nxt = next.cluster.port_rules;
  plan.rules_changed = nxt != cur;
  plan.numbering_changed = nxt.size() != cur.size();
  for (size_t i = 0; i < cur.size() && i < nxt.size(); ++i) {
    plan.numbering_changed |= nxt[i].name != cur[i].name;
  }
  for (size_t i = 0; i < cur.size(); ++i) {
    for (size_t j = 0; j < nxt.size(); ++j) {
      if (i != j && nxt[j].name == cur[i].name) plan.renumbered.push_back({cur[i].name, i, j});
    }
  }
  plan.next = std::move(next);
  return plan;
}

std::vector<FilteringMode> RuleModesOf(const ClusterConfig& cluster) {
  std::vector<FilteringMode> modes;
  for (const PortRule& rule : cluster.port_rules) modes.push_back(rule.mode);
  return modes;
}

std::vector<std::string> RuleNamesOf(const ClusterConfig& cluster) {
  std::vector<std::string> names;
  for (const PortRule& rule : cluster.port_rules) names.push_back(rule.name);
  return names;
}

std::string DescribeRenumbering(const std::vector<RenumberedRule>& renumbered) {
  std::string out;
  for (const RenumberedRule& r : renumbered) {
    if (!out.empty()) out += ", ";
    out += r.name + " " + std::to_string(r.from) + " -> " + std::to_string(r.to);
  }
  return out;
}

}  // namespace nlb::agent
