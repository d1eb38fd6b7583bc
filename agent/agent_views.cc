#include <algorithm>
#include <chrono>

#include "agent/agent.h"
#include "common/json_writer.h"
#include "config/config_digest.h"

namespace nlb::agent {
namespace {

// A single-host rule's owner has all of its buckets, in effect.
uint32_t MemberBuckets(const RuleMap& rule, uint16_t host) {
  if (rule.rule.mode == FilteringMode::kSingleHost) {
    return rule.single_owner == host ? kBucketCount : 0;
  }
  uint32_t owned = 0;
  for (uint16_t owner : rule.bucket_owner) owned += owner == host ? 1 : 0;
  return owned;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Agent::MemberHealth(const MemberReport& m) const {
  // The member's announcement is in the canonical order of its rules; a member still on other
  // rules (mid-reload) is shown once it has reloaded too.
  std::vector<std::pair<std::string, std::string>> out;
  const std::vector<PortRule>& rules = config_.cluster.port_rules;
  if (m.rule_health.size() != rules.size()) return out;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (m.rule_health[i] == RuleHealth::kUnchecked) continue;
    out.emplace_back(rules[i].name, RuleHealthName(m.rule_health[i]));
  }
  return out;
}

std::string Agent::Query() const {
  const ConvergenceReport r = convergence_->Report();
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(config_.host.id);
  w.Key("cluster").String(config_.cluster.name);
  const std::string state = StateText(r);
  w.Key("state").String(state);
  // What the data path does, not just what convergence allows: a stopped host serves nothing.
  w.Key("converged").Bool(r.converged).Key("serving").Bool(snapshots_.Load()->serving);
  const ConvergedMap* map = convergence_->CurrentMap();
  w.Key("default_host").Uint(map != nullptr ? map->default_host_id : 0);
  w.Key("generation").Uint(r.generation);
  w.Key("members").BeginArray();
  const auto snapshot = snapshots_.Load();
  for (const MemberReport& m : r.members) {
    w.BeginObject().Key("id").Uint(m.host_id).Key("address").String(m.dedicated_address.ToString());
    w.Key("state").String(HostStateName(m.state));
    // Each member's share of every rule in the map this host holds: the load it is given.
    w.Key("buckets").BeginObject();
    for (const RuleMap& rule : snapshot->rules) {
      w.Key(rule.rule.name).Uint(MemberBuckets(rule, m.host_id));
    }
    w.EndObject();
    // What its health checks make it do with each checked rule, as it announces it: "serve",
    // "drain" or "fail-open" (docs/operations.md, "Health checks").
    w.Key("health").BeginObject();
    for (const auto& [rule, health] : MemberHealth(m)) w.Key(rule).String(health);
    w.EndObject().EndObject();
  }
  w.EndArray();
  w.Key("kept_out").BeginArray();
  for (const KeptOutHost& k : r.kept_out) {
    w.BeginObject().Key("id").Uint(k.host_id).Key("address").String(k.dedicated_address.ToString());
    w.Key("reason").String(KeptOutReasonName(k.reason)).EndObject();
  }
  w.EndArray();
  // Health checks: each one's state, and loudly the rules served although failing everywhere.
  w.Key("health_failing_open").BeginArray();
  if (health_ != nullptr) {
    for (const HealthCheckSpec& h : health_->specs()) {
      if (health_->VerdictOf(h.rule) == RuleHealthVerdict::kFailOpen) w.String(h.rule);
    }
  }
  w.EndArray();
  w.Key("health");
  if (health_ != nullptr) {
    health_->WriteJson(w);
  } else {
    w.BeginArray().EndArray();
  }
  w.Key("last_convergence").BeginObject().Key("cause").String(r.last_cause);
  w.Key("duration_ms")
      .Int(std::chrono::duration_cast<std::chrono::milliseconds>(r.last_duration).count());
  w.EndObject();
  // A host that hears nobody says so: a lone cluster by mistake looks like a healthy one.
  w.Key("peers_heard").Uint(r.peers_heard);
  w.Key("alone_ms").Int(std::chrono::duration_cast<std::chrono::milliseconds>(r.alone_for).count());
  w.Key("heartbeat_destination").String(heartbeats_->destination().ToString());
  w.EndObject();
  return w.str();
}

std::string Agent::Params() const {
  const ClusterConfig& c = config_.cluster;
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(config_.host.id);
  w.Key("config_file").String(config_.source_path);
  w.Key("cluster").BeginObject();
  w.Key("name").String(c.name).Key("digest").String(DigestHex(ClusterDigest(c)));
  w.Key("vips").BeginArray();
  for (const IpAddress& v : c.vips) w.String(v.ToString());
  w.EndArray();
  w.Key("mac_mode").String(MacModeName(c.mac_mode));
  w.Key("heartbeat").BeginObject().Key("period_ms").Uint(c.heartbeat.period_ms);
  w.Key("tolerance").Uint(c.heartbeat.tolerance).Key("port").Uint(c.heartbeat.port).EndObject();
  w.Key("control").BeginObject().Key("remote").Bool(c.control.remote);
  w.Key("port").Uint(c.control.port).EndObject();
  w.Key("port_rules").BeginArray();
  for (size_t i = 0; i < c.port_rules.size(); ++i) {
    const PortRule& r = c.port_rules[i];
    const HostRuleParams& p = config_.host.rule_params[i];
    static const char* const kControl[] = {"enabled", "disabled", "draining"};
    w.BeginObject().Key("name").String(r.name).Key("covers").String(r.Describe());
    w.Key("mode")
        .String(FilteringModeName(r.mode))
        .Key("affinity")
        .String(AffinityName(r.affinity));
    w.Key("weight").Uint(p.weight).Key("priority").Uint(p.priority);
    w.Key("state").String(kControl[static_cast<int>(rule_control_[i])]);
    // "none" without a check; else serve, drain or fail-open (common/health_check.h).
    w.Key("health").String(
        health_ == nullptr ||
                std::none_of(c.health_checks.begin(), c.health_checks.end(),
                             [&](const HealthCheckSpec& h) { return h.rule == r.name; })
            ? std::string_view("none")
            : RuleHealthVerdictName(health_->VerdictOf(r.name)));
    w.EndObject();
  }
  w.EndArray().EndObject();
  w.Key("host_config").BeginObject().Key("id").Uint(config_.host.id);
  w.Key("interface").String(config_.host.interface);
  w.Key("dedicated_address").String(config_.host.dedicated_address.ToString());
  w.Key("data_path").String(DataPathModeName(config_.host.data_path));
  if (state_file_) w.Key("state_file").String(state_file_->path());
  w.Key("role").String(HostRoleName(role_)).Key("suspended").Bool(suspended_).EndObject();
  w.Key("events").BeginArray();
  for (const std::string& e : events_) w.String(e);
  w.EndArray();
  w.EndObject();
  return w.str();
}

std::string Agent::Report() const {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(config_.host.id);
  const auto snapshot = snapshots_.Load();
  w.Key("rules").BeginArray();
  for (const RuleMap& rule : snapshot->rules) {
    uint32_t owned = 0;
    for (uint16_t owner : rule.bucket_owner) owned += owner == config_.host.id ? 1 : 0;
    w.BeginObject().Key("name").String(rule.rule.name).Key("buckets_owned").Uint(owned);
    w.Key("buckets").Uint(rule.bucket_owner.empty() ? 0 : kBucketCount);
    w.Key("single_owner").Uint(rule.single_owner).Key("enabled").Bool(rule.enabled).EndObject();
  }
  w.EndArray();
  ReportPackets(w, *snapshot);  // agent_packets.cc
  const DataPathCounters& p = data_path_->counters();
  const HeartbeatCounters& h = convergence_->counters();
  w.Key("errors").BeginObject();
  w.Key("delivery_errors").Uint(p.delivery_errors.load());
  w.Key("truncated").Uint(p.truncated.load());
  w.Key("capture_errors").Uint(p.capture_errors.load());
  w.Key("capture_dropped").Uint(p.capture_dropped.load());
  w.Key("neighbour_send_errors").Uint(responder_->send_errors());
  w.Key("heartbeat_malformed").Uint(h.malformed);
  w.Key("heartbeat_bad_hmac").Uint(h.bad_hmac);
  w.Key("heartbeat_wrong_cluster").Uint(h.wrong_cluster);
  w.Key("heartbeat_replayed").Uint(h.replayed);
  w.Key("heartbeat_duplicate_id").Uint(h.duplicate_id);
  w.Key("heartbeat_send_errors").Uint(heartbeats_->send_errors());
  w.Key("heartbeat_receive_errors")
      .Uint(heartbeats_->receive_errors() + heartbeats_->read_counters().read_errors);
  w.Key("heartbeat_truncated").Uint(heartbeats_->read_counters().truncated);
  w.Key("control_malformed").Uint(control_->malformed_requests());
  w.Key("control_refused_remote").Uint(refused_remote_);
  if (remote_control_) {
    const RemoteControlCounters& rc = remote_control_->counters();
    w.Key("remote_handshakes_refused").Uint(rc.handshakes_refused);
    w.Key("remote_handshakes_throttled").Uint(rc.handshakes_throttled);
    w.Key("remote_deadlines_expired").Uint(rc.deadlines_expired);
    w.Key("remote_malformed_requests").Uint(rc.malformed_requests);
  }
  w.Key("reload_failures").Uint(reload_failures_);
  w.Key("systemd_notify_errors").Uint(watchdog_.send_failures());  // watchdog pets refused
  if (http_) {
    const HttpServerCounters& hc = http_->counters();
    w.Key("http_methods_refused").Uint(hc.methods_refused);
    w.Key("http_not_found").Uint(hc.not_found);
    w.Key("http_bad_requests").Uint(hc.bad_requests);
    w.Key("http_deadlines_expired").Uint(hc.deadlines_expired);
    w.Key("http_connections_refused").Uint(hc.connections_refused);
    w.Key("http_accept_errors").Uint(hc.accept_errors);
  }
  w.Key("state_file_errors").Uint(state_file_errors_);
  w.EndObject();
  w.Key("heartbeats").BeginObject().Key("sent").Uint(h.sent).Key("accepted").Uint(h.accepted);
  w.Key("looped_back").Uint(h.looped_back);
  // Liveness under stalls (docs/protocol.md): how the socket was read, and how late the loop was.
  const DatagramReaderCounters& rd = heartbeats_->read_counters();
  w.Key("kernel_stamps").Bool(heartbeats_->kernel_stamps());
  w.Key("read_batches").Uint(rd.batches).Key("largest_batch").Uint(rd.largest_batch);
  w.Key("full_batches").Uint(rd.full_batches).Key("unstamped").Uint(rd.unstamped);
  w.Key("stamps_clamped").Uint(rd.stamps_clamped);
  w.Key("late_ticks").Uint(h.late_ticks);
  w.Key("max_tick_lateness_ms")
      .Int(std::chrono::duration_cast<std::chrono::milliseconds>(h.max_tick_lateness).count());
  w.EndObject();
  w.Key("neighbour").BeginObject().Key("answers").Uint(responder_->answers());
  w.Key("announcements").Uint(responder_->announcements()).EndObject();
  w.Key("delivered").Uint(p.delivered.load());
  ReportBackEnd(w);  // data_path, kernel (agent_bpf.cc)
  // Fields of the configuration in force that load but are ignored (docs/configuration.md).
  w.Key("config_warnings").BeginArray();
  for (const std::string& line : config_.warnings) w.String(line);
  w.EndArray();
  const auto now = std::chrono::steady_clock::now();
  auto remaining_ms = [&now](std::chrono::steady_clock::time_point until) {
    return until > now ? std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()
                       : 0;
  };
  w.Key("lease").BeginObject().Key("length_ms").Int(loop_->lease_length().count());
  w.Key("remaining_ms").Int(remaining_ms(snapshots_.lease_until()));
  w.Key("kernel_remaining_ms").Int(remaining_ms(snapshots_.kernel_lease_until()));
  w.Key("expiries").Uint(loop_->lease_expiries()).Key("holding").Bool(loop_->lease_holding());
  w.Key("expired_batches").Uint(p.lease_expired.load());
  w.Key("expired_frames").Uint(p.lease_expired_frames.load()).EndObject();
  w.Key("loop").BeginObject().Key("ticks").Uint(loop_->loop_lag().count());
  w.Key("lag_p50_us").Int(loop_->loop_lag().Quantile(0.5).count());
  w.Key("lag_p99_us").Int(loop_->loop_lag().Quantile(0.99).count());
  w.Key("lag_max_us").Int(loop_->loop_lag().max().count());
  w.Key("left_cluster").Bool(loop_->blocked()).Key("why").String(loop_->blocked_why()).EndObject();
  // Connection tracking: this host's tracked connections and its moving buckets per rule.
  w.Key("connections").BeginObject();
  ReportConnectionTable(w);
  w.Key("rules").BeginArray();
  for (size_t i = 0; i < config_.cluster.port_rules.size() && i < kMaxTrackedRules; ++i) {
    w.BeginObject().Key("name").String(config_.cluster.port_rules[i].name);
    w.Key("tracked").Uint(TrackedConnections(i));
    w.Key("moving_away_buckets").Uint(convergence_->HoldingBuckets(i));
    w.Key("moving_in_buckets").Uint(convergence_->ContestedBuckets(i)).EndObject();
  }
  w.EndArray().EndObject();
  w.Key("health");
  if (health_ != nullptr) {
    health_->WriteJson(w);
  } else {
    w.BeginArray().EndArray();
  }
  w.Key("moving_reports").BeginObject().Key("sent").Uint(h.reports_sent);
  w.Key("accepted").Uint(h.reports_accepted).Key("dropped").Uint(h.reports_dropped).EndObject();
  w.EndObject();
  return w.str();
}

}  // namespace nlb::agent
