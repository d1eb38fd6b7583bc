// HealthCheck: what a port rule's health check probes on this host and how its results turn into
// "serve" or "drain" (docs/operations.md "Health checks").
//
// HealthCheckSpec is the configuration's plain value (built and validated by config/, part of the
// cluster section and so of its digest). HealthState is the rise/fall state machine with
// HAProxy's and keepalived's semantics: a healthy check turns failing after `fall` failures in a
// row, a failing one healthy again after `rise` successes in a row. DecideRuleHealth says whether a
// failing host drains or keeps serving because nobody else could take the rule (fail open).
// Pure: no I/O, no clock (times are the caller's); thread-compatible. The agent's
// HealthMonitor (agent/health_monitor.h) runs the probes and feeds the results in.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace nlb {

struct MemberReport;              // common/convergence.h
enum class RuleHealth : uint8_t;  // common/heartbeat.h

enum class HealthCheckKind : uint8_t { kHttp = 0, kHttps, kTcp, kCommand };
std::string_view HealthCheckKindName(HealthCheckKind kind);  // "http", "https", "tcp", "command"

inline constexpr uint32_t kDefaultHealthIntervalMs = 2000;
inline constexpr uint32_t kDefaultHealthTimeoutMs = 1000;
inline constexpr uint32_t kDefaultHealthRise = 2;
inline constexpr uint32_t kDefaultHealthFall = 3;

struct HealthCheckSpec {
  std::string rule;  // the port rule's name
  HealthCheckKind kind = HealthCheckKind::kTcp;
  // Where the local service is probed (http, https, tcp). Default 127.0.0.1: see
  // docs/operations.md for why not the dedicated address or a VIP.
  IpAddress address = *IpAddress::Parse("127.0.0.1");
  uint16_t port = 0;                 // default: the rule's port when it covers exactly one
  std::string path = "/";            // http(s): the request target
  uint32_t expect_status = 200;      // http(s): the status code a healthy reply carries
  std::string expect_body;           // http(s): a substring the body must contain; "" = any
  std::vector<std::string> command;  // command: absolute path, then arguments; exit 0 = healthy
  uint32_t interval_ms = kDefaultHealthIntervalMs;  // from the start of one probe to the next
  uint32_t timeout_ms = kDefaultHealthTimeoutMs;    // <= interval_ms
  uint32_t rise = kDefaultHealthRise;
  uint32_t fall = kDefaultHealthFall;
  friend bool operator==(const HealthCheckSpec&, const HealthCheckSpec&) = default;
};

// How one probe ended. Every failure kind is counted on its own.
enum class ProbeOutcome : uint8_t {
  kPassed = 0,
  kRefused,        // connect failed (refused, unreachable, reset)
  kTimeout,        // no verdict within timeout_ms (the command is killed)
  kBadStatus,      // http(s): another status code than expected
  kBodyMismatch,   // http(s): the body lacks expect_body
  kBadReply,       // http(s): not an HTTP/1.x reply, or too large
  kTlsFailed,      // https: the handshake failed
  kCommandFailed,  // command: exited non-zero or by a signal
  kSpawnFailed,    // command: could not be started
  kCount
};
std::string_view ProbeOutcomeName(ProbeOutcome outcome);  // "passed", "refused", "timeout", ...

// Judges a complete HTTP/1.x reply (status line, headers, body as received up to the
// connection's close) against the spec: kPassed, kBadStatus, kBodyMismatch or kBadReply.
ProbeOutcome ClassifyHttpReply(std::string_view reply, const HealthCheckSpec& spec);

enum class HealthStatus : uint8_t { kHealthy = 0, kFailing };
std::string_view HealthStatusName(HealthStatus status);  // "healthy", "failing"

// The rise/fall state machine of one check. Starts healthy (as HAProxy's servers start up): a
// host that starts with its service down serves for at most fall x interval before it drains.
class HealthState {
 public:
  HealthState(uint32_t rise, uint32_t fall) : rise_(rise), fall_(fall) {}

  // Applies one probe result. Returns true when the status changed with it.
  // REQUIRES: outcome != kCount
  bool Apply(ProbeOutcome outcome, std::chrono::milliseconds latency);

  HealthStatus status() const { return status_; }
  uint32_t consecutive() const { return consecutive_; }  // results in a row against the status
  uint64_t transitions() const { return transitions_; }
  uint64_t probes() const { return probes_; }
  uint64_t failures(ProbeOutcome outcome) const {
    return by_outcome_[static_cast<size_t>(outcome)];
  }
  std::optional<ProbeOutcome> last_outcome() const { return last_outcome_; }
  std::chrono::milliseconds last_latency() const { return last_latency_; }

 private:
  uint32_t rise_;
  uint32_t fall_;
  HealthStatus status_ = HealthStatus::kHealthy;
  uint32_t consecutive_ = 0;
  uint64_t transitions_ = 0;
  uint64_t probes_ = 0;
  std::array<uint64_t, static_cast<size_t>(ProbeOutcome::kCount)> by_outcome_{};
  std::optional<ProbeOutcome> last_outcome_;
  std::chrono::milliseconds last_latency_{0};
};

enum class RuleHealthVerdict : uint8_t {
  kServe = 0,  // healthy: announce the configured weight
  kDrain,      // failing and another member serves the rule: announce weight 0
  kFailOpen,   // failing, and no healthy member serves the rule: keep the configured weight
};
std::string_view RuleHealthVerdictName(RuleHealthVerdict verdict);  // "serve", "drain", "fail-open"

// What a verdict is announced as in heartbeats (RuleHealth::kUnchecked is a rule without check).
RuleHealth AnnouncedHealth(RuleHealthVerdict verdict);

// True when an active member other than local_host_id has a weight above 0 for rule (an index
// into each member's rule_params) and does not announce the rule's check failing (drain or
// fail-open): a healthy host serves it. Judged by what the members announce (heartbeat version 2),
// not by their weights alone, so a healthy host of weight 1 counts and a failing one never does.
bool HealthyMemberServes(std::span<const MemberReport> members, size_t rule,
                         uint16_t local_host_id);

// others_serving: HealthyMemberServes for the rule. Draining when nobody else serves would turn a
// cluster-wide failure of the check (often the check's own fault, or a shared back end's) into a
// complete outage; serving keeps whatever still works reachable.
RuleHealthVerdict DecideRuleHealth(HealthStatus status, bool others_serving);

}  // namespace nlb
