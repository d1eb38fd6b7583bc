#include "common/metrics_page.h"

#include <string_view>

#include "common/prometheus_text.h"

namespace nlb {
namespace {

using M = MetricType;

std::string_view Verdict(bool accepted) { return accepted ? "accepted" : "dropped"; }

void WriteTraffic(const HostStatus& s, PrometheusText& p) {
  p.Family("nlb_packets_total", M::kCounter,
           "Packets this host decided, by decision reason (accepted: this host serves them).");
  for (const ReasonCount& r : s.reasons) {
    p.Sample({{"reason", r.reason}, {"verdict", Verdict(r.accepted)}},
             static_cast<double>(r.packets));
  }
  p.Family("nlb_bytes_total", M::kCounter, "Bytes of the packets in nlb_packets_total.");
  for (const ReasonCount& r : s.reasons) {
    p.Sample({{"reason", r.reason}, {"verdict", Verdict(r.accepted)}},
             static_cast<double>(r.bytes));
  }
  p.Family("nlb_rule_packets_total", M::kCounter,
           "Packets of a port rule this host decided, accepted (served here) or dropped.");
  for (const RuleStatus& r : s.rules) {
    p.Sample({{"rule", r.name}, {"verdict", "accepted"}}, static_cast<double>(r.accepted_packets));
    p.Sample({{"rule", r.name}, {"verdict", "dropped"}}, static_cast<double>(r.dropped_packets));
  }
  p.Family("nlb_rule_bytes_total", M::kCounter, "Bytes of the packets in nlb_rule_packets_total.");
  for (const RuleStatus& r : s.rules) {
    p.Sample({{"rule", r.name}, {"verdict", "accepted"}}, static_cast<double>(r.accepted_bytes));
    p.Sample({{"rule", r.name}, {"verdict", "dropped"}}, static_cast<double>(r.dropped_bytes));
  }
}

void WriteRules(const HostStatus& s, PrometheusText& p) {
  p.Family("nlb_rule_buckets_owned", M::kGauge,
           "Buckets of a multiple-host rule this host owns in the converged map (of 16384).");
  for (const RuleStatus& r : s.rules) p.Sample({{"rule", r.name}}, r.buckets_owned);
  p.Family("nlb_rule_moving_buckets", M::kGauge,
           "Buckets of a rule whose connections are moving between hosts.");
  for (const RuleStatus& r : s.rules) {
    p.Sample({{"rule", r.name}}, static_cast<double>(r.moving_buckets.size()));
  }
  p.Family("nlb_rule_enabled", M::kGauge, "1 when the rule is enabled in the converged map.");
  for (const RuleStatus& r : s.rules) p.Sample({{"rule", r.name}}, r.enabled ? 1 : 0);
  p.Family("nlb_rule_connections", M::kGauge, "Connections of a rule this host tracks.");
  for (const RuleStatus& r : s.rules) {
    p.Sample({{"rule", r.name}}, static_cast<double>(r.connections));
  }
}

void WriteMembership(const HostStatus& s, PrometheusText& p) {
  const std::string host = std::to_string(s.host_id);
  p.Family("nlb_info", M::kGauge, "Always 1; labels say which host, cluster and version.");
  p.Sample({{"host", host}, {"cluster", s.cluster}, {"version", s.version}}, 1);
  p.Family("nlb_uptime_seconds", M::kGauge, "Seconds since this agent started.");
  p.Sample({}, s.uptime_seconds);
  p.Family("nlb_converged", M::kGauge, "1 while this host holds a map every member agreed.");
  p.Sample({}, s.converged ? 1 : 0);
  p.Family("nlb_serving", M::kGauge, "1 while this host's data path accepts traffic.");
  p.Sample({}, s.serving ? 1 : 0);
  p.Family("nlb_members", M::kGauge, "Hosts in this host's converged view, itself included.");
  p.Sample({}, static_cast<double>(s.members.size()));
  p.Family("nlb_member_state", M::kGauge,
           "1 for every member of the view, labelled with its id, address and state.");
  for (const MemberStatus& m : s.members) {
    p.Sample({{"member", std::to_string(m.id)}, {"address", m.address}, {"state", m.state}}, 1);
  }
  p.Family("nlb_member_rule_health", M::kGauge,
           "1 for every checked rule of every member, labelled with what its check makes it do.");
  for (const MemberStatus& m : s.members) {
    for (const auto& [rule, health] : m.health) {
      p.Sample({{"member", std::to_string(m.id)}, {"rule", rule}, {"health", health}}, 1);
    }
  }

  p.Family("nlb_kept_out_hosts", M::kGauge,
           "1 for every host kept out of the cluster, labelled with why.");
  for (const KeptOutStatus& k : s.kept_out) {
    p.Sample({{"member", std::to_string(k.id)}, {"address", k.address}, {"reason", k.reason}}, 1);
  }
  p.Family("nlb_default_host", M::kGauge, "The host id that takes traffic no rule covers.");
  p.Sample({}, s.default_host);
  p.Family("nlb_map_generation", M::kGauge, "Generation of the converged map this host holds.");
  p.Sample({}, static_cast<double>(s.generation));
  p.Family("nlb_convergences_total", M::kCounter, "Convergences this host completed.");
  p.Sample({}, static_cast<double>(s.convergences));
  p.Family("nlb_convergence_duration_seconds", M::kHistogram,
           "How long convergences took, from the change that started one to the agreed map.");
  const DurationHistogram& h = s.convergence_duration;
  p.Histogram({}, DurationHistogram::kBoundsSeconds, h.counts(), h.sum_seconds());
  p.Family("nlb_heartbeats_sent_total", M::kCounter, "Heartbeats this host sent.");
  p.Sample({}, static_cast<double>(s.heartbeats_sent));
  p.Family("nlb_heartbeats_accepted_total", M::kCounter,
           "Heartbeats from peers that passed every check.");
  p.Sample({}, static_cast<double>(s.heartbeats_accepted));
}

void WriteAgent(const HostStatus& s, PrometheusText& p) {
  if (s.loop_lag_seconds.has_value()) {
    p.Family("nlb_loop_lag_seconds", M::kGauge,
             "How late the event loop ran its timers: the 99th percentile of the last 1024 ticks.");
    p.Sample({}, *s.loop_lag_seconds);
  }
  if (s.loop_lag_max_seconds.has_value()) {
    p.Family("nlb_loop_lag_max_seconds", M::kGauge, "The latest tick since the agent started.");
    p.Sample({}, *s.loop_lag_max_seconds);
  }
  p.Family("nlb_data_path", M::kGauge,
           "1 for the back end that decides this host's packets (host.data_path).");
  p.Sample({{"backend", s.data_path}}, 1);
  p.Family("nlb_kernel_update_duration_seconds", M::kGauge,
           "How long the last map update of the BPF data plane took (0 with the capture).");
  p.Sample({}, s.kernel_update_seconds);
  p.Family("nlb_kernel_update_errors_total", M::kCounter,
           "Kernel updates and repairs of nlbd's nftables table that failed.");
  p.Sample({}, static_cast<double>(s.kernel_update_errors));
  p.Family("nlb_connections", M::kGauge, "Connections this host tracks.");
  p.Sample({}, static_cast<double>(s.connections));
  p.Family("nlb_connection_capacity", M::kGauge, "Connections the table can hold.");
  p.Sample({}, static_cast<double>(s.connection_capacity));
  p.Family("nlb_connection_table_fill_ratio", M::kGauge,
           "Tracked connections over capacity (0-1); full evicts the oldest half-open ones.");
  p.Sample({}, s.connection_capacity == 0 ? 0
                                          : static_cast<double>(s.connections) /
                                                static_cast<double>(s.connection_capacity));
  p.Family("nlb_health_check_up", M::kGauge, "1 while a rule's health check passes on this host.");
  for (const HealthCheckReport& c : s.health) {
    p.Sample({{"rule", c.rule}, {"kind", c.kind}}, c.healthy ? 1 : 0);
  }
  p.Family("nlb_health_check_latency_seconds", M::kGauge, "How long the last check took.");
  for (const HealthCheckReport& c : s.health) {
    p.Sample({{"rule", c.rule}, {"kind", c.kind}}, c.last_latency_seconds);
  }
  p.Family("nlb_health_checks_total", M::kCounter, "Health checks run, by result.");
  for (const HealthCheckReport& c : s.health) {
    p.Sample({{"rule", c.rule}, {"kind", c.kind}, {"result", "success"}},
             static_cast<double>(c.successes));
    p.Sample({{"rule", c.rule}, {"kind", c.kind}, {"result", "failure"}},
             static_cast<double>(c.failures));
  }
  p.Family("nlb_errors_total", M::kCounter,
           "Handled errors, by kind (the same counters as nlbctl report's errors).");
  for (const ErrorCount& e : s.errors) p.Sample({{"error", e.name}}, static_cast<double>(e.count));
}

}  // namespace

Result<std::string> RenderMetrics(const HostStatus& status) {
  PrometheusText p;
  WriteMembership(status, p);
  WriteRules(status, p);
  WriteTraffic(status, p);
  WriteAgent(status, p);
  if (!p.status().ok()) return p.status();
  return p.str();
}

}  // namespace nlb
