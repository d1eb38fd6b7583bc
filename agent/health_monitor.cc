#include "agent/health_monitor.h"

#include <algorithm>

#include "agent/health_probe.h"
#include "agent/log.h"

namespace nlb::agent {

struct HealthMonitor::Check {
  Check(boost::asio::io_context& io, const HealthCheckSpec& spec)
      : state(spec.rise, spec.fall), timer(io) {}
  HealthState state;
  RuleHealthVerdict verdict = RuleHealthVerdict::kServe;
  boost::asio::steady_timer timer;
  std::chrono::steady_clock::time_point started{};
};

namespace {

std::string Target(const HealthCheckSpec& spec) {
  if (spec.kind == HealthCheckKind::kCommand) {
    std::string out;
    for (const std::string& word : spec.command) out += (out.empty() ? "" : " ") + word;
    return out;
  }
  const std::string host =
      spec.address.is_v4() ? spec.address.ToString() : "[" + spec.address.ToString() + "]";
  std::string out = host + ":" + std::to_string(spec.port);
  if (spec.kind != HealthCheckKind::kTcp) {
    out = std::string(HealthCheckKindName(spec.kind)) + "://" + out + spec.path;
  }
  return out;
}

}  // namespace

HealthMonitor::HealthMonitor(boost::asio::io_context& io, std::vector<HealthCheckSpec> specs,
                             Changed changed)
    : io_(io),
      specs_(std::move(specs)),
      changed_(std::move(changed)),
      tls_(MakeHealthTlsContext()),
      jitter_(std::random_device{}()) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    checks_.push_back(std::make_unique<Check>(io_, specs_[i]));
    Schedule(i, std::chrono::milliseconds(0));
  }
}

HealthMonitor::~HealthMonitor() { *alive_ = false; }

void HealthMonitor::Schedule(size_t index, std::chrono::milliseconds delay) {
  const uint32_t spread = specs_[index].interval_ms / 10;
  std::uniform_int_distribution<uint32_t> extra(0, spread);
  Check& check = *checks_[index];
  check.timer.expires_after(delay + std::chrono::milliseconds(extra(jitter_)));
  check.timer.async_wait([this, index, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) Probe(index);
  });
}

void HealthMonitor::Probe(size_t index) {
  checks_[index]->started = std::chrono::steady_clock::now();
  StartHealthProbe(
      io_, specs_[index], tls_,
      [this, index, alive = alive_](ProbeOutcome outcome, std::chrono::milliseconds latency) {
        if (!*alive) return;
        Check& check = *checks_[index];
        const HealthCheckSpec& spec = specs_[index];
        std::string line;
        if (check.state.Apply(outcome, latency)) {
          const bool healthy = check.state.status() == HealthStatus::kHealthy;
          line = "health check of rule " + spec.rule + " (" + Target(spec) + ") is " +
                 (healthy ? "healthy again after " + std::to_string(spec.rise) + " passes"
                          : "failing after " + std::to_string(spec.fall) + " failures, the last " +
                                std::string(ProbeOutcomeName(outcome)));
          (healthy ? LogNotice : LogWarning)("health", line);
        }
        // The next probe one interval after this one started, never overlapping.
        const auto next = check.started + std::chrono::milliseconds(spec.interval_ms);
        const auto wait = std::max(std::chrono::milliseconds(0),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(
                                       next - std::chrono::steady_clock::now()));
        Schedule(index, wait);
        changed_(line);
      });
}

std::vector<std::string> HealthMonitor::Evaluate(std::span<const MemberReport> members,
                                                 const std::vector<PortRule>& rules,
                                                 uint16_t local_host_id) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const HealthCheckSpec& spec = specs_[i];
    // The rule's index in the members' (canonical) numbering, found by name.
    const auto at = std::find_if(rules.begin(), rules.end(),
                                 [&](const PortRule& r) { return r.name == spec.rule; });
    const size_t rule = static_cast<size_t>(at - rules.begin());
    const bool others_serving = HealthyMemberServes(members, rule, local_host_id);
    Check& check = *checks_[i];
    const RuleHealthVerdict verdict = DecideRuleHealth(check.state.status(), others_serving);
    if (verdict == check.verdict) continue;
    std::string line;
    switch (verdict) {
      case RuleHealthVerdict::kDrain:
        line = "rule " + spec.rule + " draining: its health check fails on this host";
        LogWarning("health", line);
        break;
      case RuleHealthVerdict::kFailOpen:
        line = "rule " + spec.rule +
               " FAILING OPEN: its health check fails here and no healthy member serves it, so "
               "this host keeps serving it";
        LogError("health", line);
        break;
      case RuleHealthVerdict::kServe:
        line = "rule " + spec.rule + " served again: its health check passes";
        LogNotice("health", line);
        break;
    }
    check.verdict = verdict;
    lines.push_back(std::move(line));
  }
  return lines;
}

RuleHealthVerdict HealthMonitor::VerdictOf(const std::string& rule) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].rule == rule) return checks_[i]->verdict;
  }
  return RuleHealthVerdict::kServe;
}

std::vector<RuleHealth> HealthMonitor::Announced(const std::vector<PortRule>& rules) const {
  std::vector<RuleHealth> out(rules.size(), RuleHealth::kUnchecked);
  for (size_t r = 0; r < rules.size(); ++r) {
    for (size_t i = 0; i < specs_.size(); ++i) {
      if (specs_[i].rule == rules[r].name) out[r] = AnnouncedHealth(checks_[i]->verdict);
    }
  }
  return out;
}

size_t HealthMonitor::FailingOpen() const {
  return static_cast<size_t>(std::count_if(checks_.begin(), checks_.end(), [](const auto& c) {
    return c->verdict == RuleHealthVerdict::kFailOpen;
  }));
}

std::vector<HealthCheckReport> HealthMonitor::Reports() const {
  std::vector<HealthCheckReport> out;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const HealthState& s = checks_[i]->state;
    HealthCheckReport r;
    r.rule = specs_[i].rule;
    r.kind = HealthCheckKindName(specs_[i].kind);
    r.healthy = s.status() == HealthStatus::kHealthy;
    r.last_latency_seconds = static_cast<double>(s.last_latency().count()) / 1000.0;
    uint64_t failures = 0;
    for (size_t k = 1; k < static_cast<size_t>(ProbeOutcome::kCount); ++k) {
      failures += s.failures(static_cast<ProbeOutcome>(k));
    }
    r.failures = failures;
    r.successes = s.probes() - std::min(failures, s.probes());
    out.push_back(std::move(r));
  }
  return out;
}

void HealthMonitor::WriteJson(JsonWriter& w) const {
  w.BeginArray();
  for (size_t i = 0; i < specs_.size(); ++i) {
    const HealthCheckSpec& spec = specs_[i];
    const Check& check = *checks_[i];
    const HealthState& s = check.state;
    w.BeginObject().Key("rule").String(spec.rule);
    w.Key("type").String(HealthCheckKindName(spec.kind)).Key("target").String(Target(spec));
    w.Key("status").String(HealthStatusName(s.status()));
    w.Key("verdict").String(RuleHealthVerdictName(check.verdict));
    w.Key("last_result");
    if (s.last_outcome().has_value()) {
      w.String(ProbeOutcomeName(*s.last_outcome()));
    } else {
      w.Null();
    }
    w.Key("last_latency_ms").Uint(static_cast<uint64_t>(s.last_latency().count()));
    w.Key("interval_ms").Uint(spec.interval_ms).Key("rise").Uint(spec.rise);
    w.Key("fall").Uint(spec.fall).Key("transitions").Uint(s.transitions());
    w.Key("probes").Uint(s.probes()).Key("failures").BeginObject();
    for (size_t k = 1; k < static_cast<size_t>(ProbeOutcome::kCount); ++k) {
      const auto outcome = static_cast<ProbeOutcome>(k);
      w.Key(ProbeOutcomeName(outcome)).Uint(s.failures(outcome));
    }
    w.EndObject().EndObject();
  }
  w.EndArray();
}

}  // namespace nlb::agent
