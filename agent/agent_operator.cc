// What operator commands and reloads do to the agent (the routing is ControlDispatcher's).
#include <algorithm>
#include <chrono>

#include "agent/agent.h"
#include "agent/log.h"
#include "common/control_reply.h"
#include "common/json_writer.h"
#include "config/cluster_key.h"
#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb::agent {

std::vector<HostRuleParams> Agent::EffectiveRuleParams() const {
  std::vector<HostRuleParams> params = config_.host.rule_params;
  // A rule this host disabled or drains is announced with weight 0: the others take it over.
  for (size_t i = 0; i < params.size() && i < rule_control_.size(); ++i) {
    if (rule_control_[i] != RuleControl::kEnabled) params[i].weight = 0;
  }
  // A failing check drains; failing open keeps the configured weight (the heartbeat says why).
  if (health_ != nullptr) {
    for (size_t i = 0; i < params.size() && i < config_.cluster.port_rules.size(); ++i) {
      const RuleHealthVerdict v = health_->VerdictOf(config_.cluster.port_rules[i].name);
      if (v == RuleHealthVerdict::kDrain) params[i].weight = 0;
    }
  }
  return params;
}

void Agent::AnnounceRuleParams() {
  convergence_->SetRuleParams(EffectiveRuleParams(), std::chrono::steady_clock::now());
  PublishSnapshot();
  Tick();
  ScheduleTick();
}

void Agent::NoteRefusedRemote(const std::string& command, const RequestOrigin& origin) {
  ++refused_remote_;
  const std::string line =
      "refused '" + command + "' from " + origin.peer.ToString() + ": this host is suspended";
  LogWarning("control", line);
  NoteEvent(line);
}

std::string Agent::Command(HostCommand command) {
  const uint16_t host = config_.host.id;
  switch (command) {
    case HostCommand::kStart:
      return SetRole(HostRole::kActive, "started");
    case HostCommand::kStop:
      return SetRole(HostRole::kStopped, "stopped");
    case HostCommand::kDrainstop:
      if (role_ == HostRole::kStopped) {
        return ControlRefusal(host, "already",
                              "host " + std::to_string(host) + " is already stopped");
      }
      // The host stops by itself once its last tracked connection ends (CompleteDrainstop).
      return SetRole(HostRole::kDraining, "draining");
    case HostCommand::kSuspend:
      if (suspended_) return ControlRefusal(host, "already", "host is already suspended");
      suspended_ = true;
      return SetRole(HostRole::kSuspended, "suspended");
    case HostCommand::kResume:
      if (!suspended_) return ControlRefusal(host, "already", "host is not suspended");
      suspended_ = false;
      return SetRole(HostRole::kStopped, "resumed (stopped; start it to handle traffic)");
  }
  return ControlRefusal(host, "invalid", "unknown host command");
}

std::string Agent::SetRole(HostRole role, const char* verb, bool by_operator) {
  const uint16_t host = config_.host.id;
  if (role == role_) {
    return ControlRefusal(host, "already", "host " + std::to_string(host) + " is already " + verb);
  }
  if (suspended_ && role != HostRole::kSuspended && role_ == HostRole::kSuspended &&
      role != HostRole::kStopped) {
    return ControlRefusal(host, "refused", "host is suspended: resume it first");
  }
  role_ = role;
  SaveOperatorState();
  convergence_->SetRole(AnnouncedRole(), std::chrono::steady_clock::now());
  PublishSnapshot();
  const std::string line = std::string("host ") + verb + " by operator";
  if (by_operator) {
    LogNotice("control", line);
    NoteEvent(line);
  }
  Tick();
  ScheduleTick();
  return ControlDone(host, line);
}

std::string Agent::SetRuleControl(const RuleSelector& selector, RuleControl control) {
  const uint16_t host = config_.host.id;
  const bool all = selector.all();
  const uint32_t port = selector.port.value_or(0);
  const std::optional<IpAddress>& vip = selector.vip;
  std::vector<size_t> matched;
  for (size_t i = 0; i < config_.cluster.port_rules.size(); ++i) {
    const PortRule& r = config_.cluster.port_rules[i];
    if (selector.name) {
      if (r.name == *selector.name) matched.push_back(i);
      continue;
    }
    if (all) {
      matched.push_back(i);
      continue;
    }
    if (port < r.first_port || port > r.last_port) continue;
    if (vip && r.vip && *r.vip != *vip) continue;
    if (vip && !r.vip) {
      bool cluster_vip = false;
      for (const IpAddress& v : config_.cluster.vips) cluster_vip |= v == *vip;
      if (!cluster_vip) continue;
    }
    matched.push_back(i);
  }
  if (matched.empty() && selector.name) {
    std::vector<std::string> names;
    for (const PortRule& r : config_.cluster.port_rules) names.push_back(r.name);
    return ControlRefusal(host, "not_found", UnknownRuleNameMessage(*selector.name, names));
  }
  if (matched.empty()) {
    return ControlRefusal(host, "not_found", "no port rule covers '" + selector.ToString() + "'");
  }
  bool changed = false;
  for (size_t i : matched) {
    changed |= rule_control_[i] != control;
    rule_control_[i] = control;
  }
  const char* verb = RuleControlName(control);
  if (!changed) {
    return ControlRefusal(host, "already", "'" + selector.ToString() + "' is already " + verb);
  }
  SaveOperatorState();
  std::string names;
  for (size_t i : matched)
    names += (names.empty() ? "" : ", ") + config_.cluster.port_rules[i].name;
  const std::string line = "rule " + names + " " + verb + " by operator";
  LogNotice("control", line);
  NoteEvent(line);
  AnnounceRuleParams();
  return ControlDone(host, line);
}

void Agent::AwaitInForce(std::string what, std::string done_reply, std::chrono::milliseconds wait,
                         std::function<void(std::string)> reply) {
  const auto now = std::chrono::steady_clock::now();
  in_force_.Add(config_.host.id, std::move(what), std::move(done_reply),
                InForceTarget{AnnouncedRole(), EffectiveRuleParams()}, now, now + wait,
                std::move(reply));
  CheckInForce();
}

void Agent::CheckInForce() {
  if (in_force_.size() == 0) return;
  const std::vector<HostRuleParams> params = EffectiveRuleParams();
  InForceState state;
  state.map = convergence_->CurrentMap();
  state.applied_generation = AppliedGeneration();
  // A map handed to the switch is published only once its kernel steps are done.
  state.switching = publisher_->settling();
  state.host_id = config_.host.id;
  state.role = AnnouncedRole();
  state.rule_params = params;
  in_force_.Check(state, std::chrono::steady_clock::now());
  if (in_force_.size() == 0) return;
  // The data path and the kernel worker finish on their own threads: look again shortly (a
  // timer, never a wait on the loop), and at the latest at the next deadline.
  constexpr std::chrono::milliseconds kPoll{20};
  in_force_timer_.expires_after(kPoll);
  in_force_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) CheckInForce();
  });
}

Result<ReloadPlan> Agent::PrepareReload() {
  auto loaded = LoadConfigFile(config_.source_path);
  if (!loaded.ok()) {
    return Status::Error(
        loaded.status().code(),
        "reload refused, the running configuration stays in force:\n" + loaded.status().message());
  }
  auto key = ReadClusterKey(loaded->cluster.heartbeat.key_file);
  if (!key.ok()) {
    return Status::Error(key.status().code(), "reload refused: " + key.status().message());
  }
  return PlanReload(config_, std::string(key_.begin(), key_.end()), std::move(loaded.value()),
                    key.value());
}

Status Agent::Reload() {
  ++reloads_;
  auto prepared = PrepareReload();
  if (!prepared.ok()) {
    ++reload_failures_;
    NoteEvent(prepared.status().message());
    return prepared.status();
  }
  ReloadPlan& plan = prepared.value();
  const std::string rekeyed =
      DescribeClientKeyChanges(config_.cluster.port_rules, plan.next.cluster.port_rules);
  const std::vector<std::string> names_before = RuleNamesOf(config_.cluster);
  config_ = std::move(plan.next);
  for (const std::string& line : config_.warnings) LogWarning("config", line);
  // Disabled and drained rules stay so, by name, whatever the reload adds or renumbers.
  if (plan.rules_changed) FollowOperatorStateAcrossReload(names_before, rule_control_);
  // Unchanged checks keep their state (a reload does not make a failing rule healthy).
  if (health_ == nullptr ? !config_.cluster.health_checks.empty()
                         : health_->specs() != config_.cluster.health_checks) {
    StartHealthChecks();
  }
  std::vector<std::string> names = RuleNamesOf(config_.cluster);
  if (plan.numbering_changed) {
    numbering_ = std::make_shared<const RuleNumbering>(RuleNumbering{numbering_->epoch + 1, names});
  }
  convergence_->SetRules(ClusterDigest(config_.cluster), RuleModesOf(config_.cluster),
                         std::move(names), EffectiveRuleParams(), std::chrono::steady_clock::now(),
                         ClientKeysOf(config_.cluster.port_rules));
  PublishSnapshot();
  const std::string line = "reloaded " + config_.source_path + " (config digest " +
                           DigestHex(ClusterDigest(config_.cluster)).substr(0, 12) + ")";
  LogNotice("reload", line);
  NoteEvent(line);
  if (!plan.renumbered.empty()) {
    LogInfo("reload", "reload renumbered rules (" + DescribeRenumbering(plan.renumbered) +
                          "): their buckets and connections follow them by name");
  }
  if (!rekeyed.empty()) {
    LogNotice("reload", "reload changed the affinity of " + rekeyed +
                            ": every bucket of it moves until the connections served under the "
                            "previous affinity have closed");
  }
  Tick();
  ScheduleTick();
  return Status::Ok();
}

std::string Agent::ReloadCheck() {
  const uint16_t host = config_.host.id;
  auto prepared = PrepareReload();
  if (!prepared.ok()) return ControlRefusal(host, "invalid", prepared.status().message());
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(host);
  w.Key("config_file").String(config_.source_path);
  w.Key("digest").String(DigestHex(ClusterDigest(prepared->next.cluster)));
  w.Key("running_digest").String(DigestHex(ClusterDigest(config_.cluster)));
  w.Key("warnings").BeginArray();
  for (const std::string& line : prepared->next.warnings) w.String(line);
  w.EndArray();
  w.EndObject();
  return w.str();
}

std::string Agent::ReloadNow(const RequestOrigin& origin) {
  if (Status s = Reload(); !s.ok()) {
    // As a refused SIGHUP is logged, with who asked.
    LogError("reload", "nlbctl reload" +
                           (origin.remote() ? " from " + origin.peer.ToString() : std::string()) +
                           ": " + s.message());
    return ControlRefusal(config_.host.id, "invalid", s.message());
  }
  return ControlDone(config_.host.id, "reloaded " + config_.source_path);
}

}  // namespace nlb::agent
