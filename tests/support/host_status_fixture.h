// A HostStatus with every field set (two members, a kept-out host, a multiple-host rule with
// moving buckets, a single-host rule, a health check, loop lag), and a StatusSource serving it:
// for the renderer and HTTP listener tests.
#pragma once

#include "common/host_status.h"

namespace nlb::testing {

inline HostStatus SampleHostStatus() {
  HostStatus s;
  s.host_id = 1;
  s.cluster = "web\"farm";
  s.version = "0.1.0";
  s.state = "converged as default host";
  s.converged = true;
  s.serving = true;
  s.default_host = 1;
  s.generation = 7;
  s.uptime_seconds = 12.5;
  s.members = {{1, "198.18.0.11", "converged", {{"web", "serve"}}},
               {2, "198.18.0.12", "draining", {{"web", "drain"}}}};
  s.kept_out = {{3, "198.18.0.13", "mismatched rules"}};
  RuleStatus web;
  web.name = "web";
  web.covers = "198.18.1.1 tcp 80";
  web.mode = "multiple";
  web.control = "enabled";
  web.bucket_owner.assign(16384, 1);
  for (size_t i = 8192; i < 16384; ++i) web.bucket_owner[i] = 2;
  web.moving_buckets = {8192, 8193};
  web.buckets_owned = 8192;
  web.accepted_packets = 100;
  web.accepted_bytes = 6400;
  web.dropped_packets = 90;
  web.dropped_bytes = 5760;
  web.connections = 4;
  RuleStatus ssh;
  ssh.name = "ssh";
  ssh.covers = "198.18.1.1 tcp 22";
  ssh.mode = "single";
  ssh.control = "draining";
  ssh.single_owner = 2;
  s.rules = {web, ssh};
  s.reasons = {{"owned_bucket", true, 100, 6400}, {"other_hosts_bucket", false, 90, 5760}};
  s.convergences = 3;
  s.convergence_duration.Observe(0.004);
  s.convergence_duration.Observe(0.3);
  s.convergence_duration.Observe(6);
  s.last_convergence_cause = "host 2 joined";
  s.loop_lag_seconds = 0.002;
  s.loop_lag_max_seconds = 0.04;
  s.kernel_update_seconds = 0.08;
  s.connections = 4;
  s.connection_capacity = 1000;
  s.heartbeats_sent = 20;
  s.heartbeats_accepted = 19;
  s.health = {{"web", "http", true, 0.003, 10, 1}};
  s.errors = {{"heartbeat_bad_hmac", 2}, {"http_methods_refused", 1}};
  s.events = {"host 2 joined", "converged"};
  return s;
}

class FixedStatusSource : public StatusSource {
 public:
  explicit FixedStatusSource(HostStatus status) : status_(std::move(status)) {}
  HostStatus CurrentStatus() const override {
    ++calls_;
    return status_;
  }
  HostStatus& status() { return status_; }
  int calls() const { return calls_; }

 private:
  HostStatus status_;
  mutable int calls_ = 0;
};

}  // namespace nlb::testing
