// HostStatus: one agent's picture of itself and its cluster at one moment, as plain values: what
// GET /metrics and GET /status.json render (common/metrics_page.h, common/status_json.h).
//
// StatusSource is the narrow surface between those pages and the agent: the agent implements it
// on its loop thread (it copies its state into a HostStatus), tests implement it with made-up
// values, so the renderers and the HTTP listener are tested without an agent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/duration_histogram.h"

namespace nlb {

struct MemberStatus {
  uint16_t id = 0;
  std::string address;
  std::string state;  // HostStateName: "converging", "converged", "draining", ...
  // Per checked rule, as the member announces it: rule name, RuleHealthName ("serve", "drain",
  // "fail-open").
  std::vector<std::pair<std::string, std::string>> health;
};

struct KeptOutStatus {
  uint16_t id = 0;
  std::string address;
  std::string reason;  // KeptOutReasonName
};

struct RuleStatus {
  std::string name;
  std::string covers;   // PortRule::Describe
  std::string mode;     // FilteringModeName
  std::string control;  // this host's operator setting: "enabled", "disabled", "draining"
  bool enabled = true;  // in the converged map
  // Multiple-host rules: the owner of every bucket (kBucketCount entries); empty otherwise.
  std::vector<uint16_t> bucket_owner;
  std::vector<uint32_t> moving_buckets;  // ascending; buckets whose connections are moving
  uint16_t single_owner = 0;             // single-host rules; 0 when none
  uint32_t buckets_owned = 0;            // by this host
  // This host's decisions for the rule's packets (accepted: it serves them).
  uint64_t accepted_packets = 0;
  uint64_t accepted_bytes = 0;
  uint64_t dropped_packets = 0;
  uint64_t dropped_bytes = 0;
  uint64_t connections = 0;  // tracked by this host
};

struct ReasonCount {
  std::string reason;  // DecisionReasonName
  bool accepted = false;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// A health check of one rule on this host (the health-check work fills these; empty until then).
struct HealthCheckReport {
  std::string rule;
  std::string kind;  // "http", "tcp", "command"
  bool healthy = true;
  double last_latency_seconds = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
};

// A counted error: name (a metric label) and how often it happened.
struct ErrorCount {
  std::string name;
  uint64_t count = 0;
};

struct HostStatus {
  uint16_t host_id = 0;
  std::string cluster;
  std::string version;
  std::string state;  // as nlbctl query prints it
  bool converged = false;
  bool serving = false;
  uint16_t default_host = 0;
  uint64_t generation = 0;
  double uptime_seconds = 0;
  std::vector<MemberStatus> members;
  std::vector<KeptOutStatus> kept_out;
  std::vector<RuleStatus> rules;
  std::vector<ReasonCount> reasons;
  uint64_t convergences = 0;  // completed since start
  DurationHistogram convergence_duration;
  std::string last_convergence_cause;
  // The event loop's lateness (the liveness work measures it); absent until it exists.
  std::optional<double> loop_lag_seconds;
  std::optional<double> loop_lag_max_seconds;
  std::string data_path = "capture";  // the back end that decides: "capture" or "bpf"
  double kernel_update_seconds = 0;   // the last BPF map switch (0 with the capture)
  uint64_t kernel_update_errors = 0;
  uint64_t connections = 0;
  uint64_t connection_capacity = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t heartbeats_accepted = 0;
  std::vector<HealthCheckReport> health;
  std::vector<ErrorCount> errors;
  std::vector<std::string> events;  // most recent last
};

class StatusSource {
 public:
  virtual ~StatusSource() = default;
  // REQUIRES: called on the thread that owns the source (the agent's loop).
  virtual HostStatus CurrentStatus() const = 0;
};

}  // namespace nlb
