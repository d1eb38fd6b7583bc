// Agent as a StatusSource: its state copied into a HostStatus for GET /metrics and
// /status.json (common/host_status.h), and the HTTP listener that serves them. Kept apart from
// agent.cc so that the pages' needs change this file, not the agent's control logic.
#include <boost/asio/ip/address.hpp>

#include "agent/agent.h"
#include "agent/log.h"
#include "common/bucket_assignment.h"
#include "common/version.h"

namespace nlb::agent {

namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Status Agent::OpenHttp() {
  const HttpListenConfig& h = config_.host.http;
  if (!h.enabled) return Status::Ok();
  HttpServerOptions options;
  boost::system::error_code ec;
  options.listen = boost::asio::ip::tcp::endpoint(
      boost::asio::ip::make_address(h.address.ToString(), ec), h.port);
  if (ec) return Status::Error(ErrorCode::kInvalidArgument, "host.http.listen: " + ec.message());
  options.max_connections = h.max_connections;
  auto server = HttpServer::Open(io_, options, *this);
  if (!server.ok()) return server.status();
  http_ = std::move(server.value());
  LogNotice("agent",
            "metrics and status page on http://" +
                (h.address.is_v6() ? "[" + h.address.ToString() + "]" : h.address.ToString()) +
                ":" + std::to_string(h.port) + "/");
  return Status::Ok();
}

std::string Agent::StateText(const ConvergenceReport& r) const {
  if (r.local_kept_out)
    return "kept out (" + std::string(KeptOutReasonName(*r.local_kept_out)) + ")";
  if (suspended_) return "suspended";
  if (role_ == HostRole::kStopped) return "stopped";
  if (role_ == HostRole::kDraining) return "draining";
  if (!r.converged) return "converging";
  const ConvergedMap* map = convergence_->CurrentMap();
  return map != nullptr && map->default_host_id == config_.host.id ? "converged as default host"
                                                                   : "converged";
}

std::vector<ErrorCount> Agent::ErrorCounts() const {
  const DataPathCounters& p = data_path_->counters();
  const HeartbeatCounters& h = convergence_->counters();
  std::vector<ErrorCount> e = {
      {"delivery_errors", p.delivery_errors.load()},
      {"truncated", p.truncated.load()},
      {"capture_errors", p.capture_errors.load()},
      {"capture_dropped", p.capture_dropped.load()},
      {"neighbour_send_errors", responder_->send_errors()},
      {"heartbeat_malformed", h.malformed},
      {"heartbeat_bad_hmac", h.bad_hmac},
      {"heartbeat_wrong_cluster", h.wrong_cluster},
      {"heartbeat_replayed", h.replayed},
      {"heartbeat_duplicate_id", h.duplicate_id},
      {"heartbeat_send_errors", heartbeats_->send_errors()},
      {"heartbeat_receive_errors", heartbeats_->receive_errors()},
      {"control_malformed", control_->malformed_requests()},
      {"control_refused_remote", refused_remote_},
      {"reload_failures", reload_failures_},
      {"kernel_errors", kernel_stats().errors},
  };
  if (bpf_connections_) {
    // A failed sweep leaves the counts (and so the moving buckets) as of the last good one.
    e.push_back({"connection_sweep_errors", bpf_connections_->errors()});
    e.push_back(
        {"connection_insert_failed", bpf_connections_->counters().program[NLB_FLOW_INSERT_FAILED]});
  }
  if (remote_control_) {
    const RemoteControlCounters& rc = remote_control_->counters();
    e.push_back({"remote_handshakes_refused", rc.handshakes_refused});
    e.push_back({"remote_handshakes_throttled", rc.handshakes_throttled});
    e.push_back({"remote_deadlines_expired", rc.deadlines_expired});
    e.push_back({"remote_malformed_requests", rc.malformed_requests});
  }
  if (http_) {
    const HttpServerCounters& c = http_->counters();
    e.push_back({"http_methods_refused", c.methods_refused});
    e.push_back({"http_not_found", c.not_found});
    e.push_back({"http_bad_requests", c.bad_requests});
    e.push_back({"http_deadlines_expired", c.deadlines_expired});
    e.push_back({"http_connections_refused", c.connections_refused});
    e.push_back({"http_accept_errors", c.accept_errors});
  }
  for (size_t i = 1; i < static_cast<size_t>(ParseVerdict::kCount); ++i) {
    const auto v = static_cast<ParseVerdict>(i);
    e.push_back({"malformed_" + std::string(ParseVerdictName(v)), Decisions().ReadMalformed(v)});
  }
  return e;
}

HostStatus Agent::CurrentStatus() const {
  const ConvergenceReport r = convergence_->Report();
  const auto snapshot = snapshots_.Load();
  const DecisionTotals d = Decisions();
  HostStatus s;
  s.host_id = config_.host.id;
  s.cluster = config_.cluster.name;
  s.version = std::string(NlbVersion());
  s.state = StateText(r);
  s.converged = r.converged;
  s.serving = snapshot->serving;
  s.default_host = snapshot->default_host_id;
  s.generation = r.generation;
  s.uptime_seconds = Seconds(std::chrono::steady_clock::now() - started_);
  for (const MemberReport& m : r.members) {
    s.members.push_back({m.host_id, m.dedicated_address.ToString(),
                         std::string(HostStateName(m.state)), MemberHealth(m)});
  }
  for (const KeptOutHost& k : r.kept_out) {
    s.kept_out.push_back(
        {k.host_id, k.dedicated_address.ToString(), std::string(KeptOutReasonName(k.reason))});
  }
  static const char* const kControl[] = {"enabled", "disabled", "draining"};
  const std::vector<RuleFigures> figures = ReadRuleFigures(*snapshot, d);  // agent_packets.cc
  for (size_t i = 0; i < snapshot->rules.size(); ++i) {
    const RuleMap& rule = snapshot->rules[i];
    RuleStatus rs;
    rs.name = rule.rule.name;
    rs.covers = rule.rule.Describe();
    rs.mode = FilteringModeName(rule.rule.mode);
    rs.enabled = rule.enabled;
    for (size_t c = 0; c < config_.cluster.port_rules.size(); ++c) {
      if (config_.cluster.port_rules[c].name != rs.name) continue;
      rs.control = kControl[static_cast<int>(rule_control_[c])];
      rs.connections = TrackedConnections(c);
    }
    rs.bucket_owner = rule.bucket_owner;
    for (uint16_t owner : rule.bucket_owner) rs.buckets_owned += owner == config_.host.id ? 1 : 0;
    if (rule.moving && !rule.bucket_owner.empty()) {
      for (uint32_t b = 0; b < kBucketCount; ++b) {
        if (rule.moving->Contains(b)) rs.moving_buckets.push_back(b);
      }
    }
    rs.single_owner = rule.single_owner == kNoHost ? 0 : rule.single_owner;
    rs.accepted_packets = figures[i].accepted_packets;
    rs.accepted_bytes = figures[i].accepted_bytes;
    rs.dropped_packets = figures[i].dropped_packets;
    rs.dropped_bytes = figures[i].dropped_bytes;
    s.rules.push_back(std::move(rs));
  }
  for (size_t i = 0; i < static_cast<size_t>(DecisionReason::kCount); ++i) {
    const auto reason = static_cast<DecisionReason>(i);
    s.reasons.push_back({std::string(DecisionReasonName(reason)), IsAcceptReason(reason),
                         d.ReadPackets(reason), d.ReadBytes(reason)});
  }
  s.convergences = convergences_;
  s.convergence_duration = convergence_durations_;
  s.last_convergence_cause = r.last_cause;
  s.loop_lag_seconds = Seconds(loop_->loop_lag().Quantile(0.99));
  s.loop_lag_max_seconds = Seconds(loop_->loop_lag().max());
  s.data_path = bpf_ ? "bpf" : "capture";
  s.kernel_update_seconds = Seconds(kernel_stats().last_update);
  s.kernel_update_errors = kernel_stats().errors;
  s.connections = TrackedConnections();
  s.connection_capacity = ConnectionCapacity();
  const HeartbeatCounters& h = convergence_->counters();
  s.heartbeats_sent = h.sent;
  s.heartbeats_accepted = h.accepted;
  if (health_) s.health = health_->Reports();
  s.errors = ErrorCounts();
  s.events.assign(events_.begin(), events_.end());
  return s;
}

}  // namespace nlb::agent
