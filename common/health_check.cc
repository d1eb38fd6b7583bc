#include "common/health_check.h"

#include <charconv>

#include "common/convergence.h"
#include "common/heartbeat.h"

namespace nlb {

std::string_view HealthCheckKindName(HealthCheckKind kind) {
  switch (kind) {
    case HealthCheckKind::kHttp:
      return "http";
    case HealthCheckKind::kHttps:
      return "https";
    case HealthCheckKind::kTcp:
      return "tcp";
    case HealthCheckKind::kCommand:
      return "command";
  }
  return "unknown";
}

std::string_view ProbeOutcomeName(ProbeOutcome outcome) {
  switch (outcome) {
    case ProbeOutcome::kPassed:
      return "passed";
    case ProbeOutcome::kRefused:
      return "refused";
    case ProbeOutcome::kTimeout:
      return "timeout";
    case ProbeOutcome::kBadStatus:
      return "bad_status";
    case ProbeOutcome::kBodyMismatch:
      return "body_mismatch";
    case ProbeOutcome::kBadReply:
      return "bad_reply";
    case ProbeOutcome::kTlsFailed:
      return "tls_failed";
    case ProbeOutcome::kCommandFailed:
      return "exit_failed";
    case ProbeOutcome::kSpawnFailed:
      return "spawn_failed";
    case ProbeOutcome::kCount:
      break;
  }
  return "unknown";
}

std::string_view HealthStatusName(HealthStatus status) {
  return status == HealthStatus::kHealthy ? "healthy" : "failing";
}

std::string_view RuleHealthVerdictName(RuleHealthVerdict verdict) {
  switch (verdict) {
    case RuleHealthVerdict::kServe:
      return "serve";
    case RuleHealthVerdict::kDrain:
      return "drain";
    case RuleHealthVerdict::kFailOpen:
      return "fail-open";
  }
  return "unknown";
}

ProbeOutcome ClassifyHttpReply(std::string_view reply, const HealthCheckSpec& spec) {
  // "HTTP/1.1 200 OK": the version, one space, three digits, then a space or the line's end.
  const size_t line_end = reply.find("\r\n");
  if (line_end == std::string_view::npos || reply.substr(0, 7) != "HTTP/1." || line_end < 12 ||
      reply[8] != ' ' || (line_end > 12 && reply[12] != ' ')) {
    return ProbeOutcome::kBadReply;
  }
  uint32_t status = 0;
  const std::string_view digits = reply.substr(9, 3);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), status);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || status < 100) {
    return ProbeOutcome::kBadReply;
  }
  const size_t head_end = reply.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return ProbeOutcome::kBadReply;
  if (status != spec.expect_status) return ProbeOutcome::kBadStatus;
  if (!spec.expect_body.empty() &&
      reply.substr(head_end + 4).find(spec.expect_body) == std::string_view::npos) {
    return ProbeOutcome::kBodyMismatch;
  }
  return ProbeOutcome::kPassed;
}

bool HealthState::Apply(ProbeOutcome outcome, std::chrono::milliseconds latency) {
  ++probes_;
  ++by_outcome_[static_cast<size_t>(outcome)];
  last_outcome_ = outcome;
  last_latency_ = latency;
  const bool passed = outcome == ProbeOutcome::kPassed;
  const bool agrees = passed == (status_ == HealthStatus::kHealthy);
  if (agrees) {
    consecutive_ = 0;
    return false;
  }
  ++consecutive_;
  if (consecutive_ < (passed ? rise_ : fall_)) return false;
  status_ = passed ? HealthStatus::kHealthy : HealthStatus::kFailing;
  consecutive_ = 0;
  ++transitions_;
  return true;
}

RuleHealth AnnouncedHealth(RuleHealthVerdict verdict) {
  switch (verdict) {
    case RuleHealthVerdict::kServe:
      return RuleHealth::kServe;
    case RuleHealthVerdict::kDrain:
      return RuleHealth::kDrain;
    case RuleHealthVerdict::kFailOpen:
      return RuleHealth::kFailOpen;
  }
  return RuleHealth::kUnchecked;
}

bool HealthyMemberServes(std::span<const MemberReport> members, size_t rule,
                         uint16_t local_host_id) {
  for (const MemberReport& m : members) {
    if (m.host_id == local_host_id || RoleOfState(m.state) != HostRole::kActive) continue;
    if (rule >= m.rule_params.size() || m.rule_params[rule].weight == 0) continue;
    const RuleHealth health =
        rule < m.rule_health.size() ? m.rule_health[rule] : RuleHealth::kUnchecked;
    if (health == RuleHealth::kServe || health == RuleHealth::kUnchecked) return true;
  }
  return false;
}

RuleHealthVerdict DecideRuleHealth(HealthStatus status, bool others_serving) {
  if (status == HealthStatus::kHealthy) return RuleHealthVerdict::kServe;
  return others_serving ? RuleHealthVerdict::kDrain : RuleHealthVerdict::kFailOpen;
}

}  // namespace nlb
