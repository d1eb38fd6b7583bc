// When an operator command is in force (docs/control.md, "When a command returns"), and the
// replies that wait for it. `drain`, `disable`, `enable`, `drainstop`, `stop` and `start` change
// what this host announces (its role, a rule's weight); they are in force once the cluster has
// agreed on a map built from that announcement and this host's data path decides by it. Until
// then the old map stays in force everywhere: new connections keep reaching this host for about
// one convergence.
//
// InForceWaiters holds the replies of commands that wait (the request's `wait=MS` word): each is
// answered when the change is in force, or with a refusal `not_in_force` when its deadline passes
// first or when what this host announces changes again before that (a later command, a health
// verdict, the host leaving the cluster): the command it waits for is then never in force as such.
// It keeps no clock and sends nothing itself: the agent's loop calls Check on every tick, after a
// map is published and when NextDeadline comes, so nothing ever blocks the loop. Pure; io_context
// thread only (one owner).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/cluster_view.h"
#include "common/converged_map.h"

namespace nlb {

// What this host announces now and how far its data path has come.
struct InForceState {
  const ConvergedMap* map = nullptr;  // the agreed map this host holds; null before the first
  uint64_t applied_generation = 0;    // the newest map generation the data path decides by
  bool switching = false;             // a published map is still waiting for a kernel cut
  uint16_t host_id = 0;
  HostRole role = HostRole::kActive;            // as announced (stopped while blocked)
  std::span<const HostRuleParams> rule_params;  // as announced, canonical rule order
};

// What this host announced right after a command was applied.
struct InForceTarget {
  HostRole role = HostRole::kActive;
  std::vector<HostRuleParams> rule_params;  // canonical rule order
};

// True when the agreed map was built from exactly what this host announces and the data path
// decides by it. A host that owns nothing (stopped, suspended) is in force also when the map
// leaves it out.
bool CommandInForce(const InForceState& state);

class InForceWaiters {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Reply = std::function<void(std::string)>;

  // Answers reply once in force with done_reply (the command's ControlDone JSON object) plus
  // "in_force_ms": the time since start; or at deadline with ControlRefusal(host,
  // "not_in_force", ...) naming `what` (the request, e.g. "drain web"): the change is made and
  // stays, only the cluster's agreement on it is late.
  // target: what the command made this host announce.
  void Add(uint16_t host, std::string what, std::string done_reply, InForceTarget target,
           TimePoint start, TimePoint deadline, Reply reply);
  // Answers every waiter whose change is in force (CommandInForce(state) while the host still
  // announces its target), whose target the host no longer announces, or whose deadline is at or
  // before now.
  void Check(const InForceState& state, TimePoint now);
  // The earliest deadline of a waiter, if any waits.
  std::optional<TimePoint> NextDeadline() const;
  size_t size() const { return waiters_.size(); }

 private:
  struct Waiter {
    uint16_t host;
    std::string what;
    std::string done_reply;
    InForceTarget target;
    TimePoint start;
    TimePoint deadline;
    Reply reply;
  };
  std::vector<Waiter> waiters_;
};

}  // namespace nlb
