// HealthMonitor: runs every port rule's health check on this host (agent/health_probe.h), keeps
// each one's rise/fall state (common/health_check.h), and says per rule whether this host serves
// it, drains it, or keeps serving it although failing because no other member could take it
// (fail open). The Agent asks it for the verdicts when it announces its rule weights: a drained
// rule is announced with weight 0, exactly as `nlbctl drain RULE` does, so the moving-bucket
// path hands its buckets over without breaking a connection; every verdict is also announced in
// the heartbeats (RuleHealth), so that other hosts show it and judge their own fail-open by it.
//
// Lives on the agent's io_context thread; every method is called from there, and the callback
// runs there. Probes of one check never overlap: the next one is scheduled when the last ended,
// one interval after the last one started, with a random 0-10% added so that the hosts' checks
// (and their decisions to fail open) do not fall on the same instant.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/convergence.h"
#include "common/health_check.h"
#include "common/host_status.h"
#include "common/json_writer.h"
#include "common/port_rule.h"

namespace nlb::agent {

class HealthMonitor {
 public:
  // Called after every probe result; `line` is non-empty when the check's status changed and
  // says how (already logged; for the event list). The callback then calls Evaluate.
  using Changed = std::function<void(const std::string& line)>;

  // Starts probing at once (the first probe of each check within its first 10% of interval).
  // REQUIRES: specs validated by the configuration loader.
  HealthMonitor(boost::asio::io_context& io, std::vector<HealthCheckSpec> specs, Changed changed);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  const std::vector<HealthCheckSpec>& specs() const { return specs_; }

  // Recomputes every verdict from the check states and the members of the current view (which
  // of them serve each rule with a passing check, HealthyMemberServes); logs and returns the
  // lines of the verdicts that changed. rules: the rules in the members' (canonical) numbering.
  std::vector<std::string> Evaluate(std::span<const MemberReport> members,
                                    const std::vector<PortRule>& rules, uint16_t local_host_id);

  // The verdict for the rule named so: kServe for a rule without a health check.
  RuleHealthVerdict VerdictOf(const std::string& rule) const;
  // What to announce for each of rules (in their order): kUnchecked for a rule without check.
  std::vector<RuleHealth> Announced(const std::vector<PortRule>& rules) const;

  // One object per check, for query/params/report: rule, type, target, status, verdict, last
  // result and latency, transitions, probes and failures by kind.
  void WriteJson(JsonWriter& w) const;
  // One report per check, for the metrics and the status page (common/host_status.h).
  std::vector<HealthCheckReport> Reports() const;
  // The number of rules served although their check fails everywhere (shown in query).
  size_t FailingOpen() const;

 private:
  struct Check;
  void Schedule(size_t index, std::chrono::milliseconds delay);
  void Probe(size_t index);

  boost::asio::io_context& io_;
  std::vector<HealthCheckSpec> specs_;
  Changed changed_;
  boost::asio::ssl::context tls_;
  std::vector<std::unique_ptr<Check>> checks_;  // aligned with specs_
  std::minstd_rand jitter_;
  // Probes in flight outlive a monitor replaced by a reload: they only call back while it lives.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nlb::agent
