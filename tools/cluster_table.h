// ClusterTable: `nlbctl --cluster query` and `--cluster report` as one table, a row per host,
// merged from every host's own `query` and `report` replies (docs/operations.md, "Cluster-wide
// commands"), and the same replies as one JSON document for --json. Pure; any thread.
//
// Columns: HOST, ADDRESS, STATE (the host's own query state, or why it did not answer), one
// "BUCKETS <rule>" column per port rule (the buckets the host owns, from its report), CONNS
// (tracked connections), PKTS/S (accepted packets per second between two reports of the same
// host, "-" with only one), HEALTH ("rule=state,...": a "health" field in the report's rules (a
// word, or an object's "state"), else the report's or query's top-level "health" list of checks
// ({"rule", "status"}), else "-"). The report view adds ACCEPTED, DROPPED and ERRORS (the sum of
// the report's "errors" counters).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tools/cluster_outcome.h"

namespace nlb {

// One host's replies at one moment.
struct HostSample {
  HostOutcome query;
  HostOutcome report;
  std::chrono::steady_clock::time_point at;  // when its report arrived
};

enum class ClusterTableKind : uint8_t { kQuery = 0, kReport };

// Accepted packets per second of one host between two samples; nullopt when either sample lacks
// the counter, the clock did not advance, or the counter went back (the agent restarted).
std::optional<double> AcceptedPerSecond(const HostSample& before, const HostSample& now);

// now: one sample per host, in the cluster's order. before: an earlier sample of the same hosts
// (matched by host id), or empty; rates need it.
std::string RenderClusterTable(ClusterTableKind kind, const std::vector<HostSample>& now,
                               const std::vector<HostSample>& before);

// [{"id":..,"address":..,"query":<reply>,"report":<reply>,"accepted_per_second":N|null}, ...]
// with each reply as the host sent it (or nlbctl's object for a host that did not answer).
std::string ClusterTableJson(const std::vector<HostSample>& now,
                             const std::vector<HostSample>& before);

// kOk when every host answered both requests; otherwise the first failure's exit status.
ControlExit ClusterTableExit(const std::vector<HostSample>& now);

}  // namespace nlb
