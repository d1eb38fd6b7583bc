#include "common/command_in_force.h"

#include <algorithm>
#include <utility>

#include "common/control_reply.h"

namespace nlb {

namespace {

bool OwnsNothing(HostRole role) {
  return role == HostRole::kStopped || role == HostRole::kSuspended;
}

// Whether the host still announces what the command made it announce.
bool Announces(const InForceState& s, const InForceTarget& t) {
  if (s.role != t.role) return false;
  return OwnsNothing(s.role) || std::ranges::equal(s.rule_params, t.rule_params);
}

}  // namespace

bool CommandInForce(const InForceState& s) {
  if (s.map == nullptr || s.switching || s.applied_generation < s.map->generation) return false;
  const bool owns_nothing = OwnsNothing(s.role);
  for (const ViewMember& m : s.map->members) {
    if (m.host_id != s.host_id) continue;
    if (m.role != s.role) return false;
    // Stopped members own nothing whatever their weights: only the role matters then.
    return owns_nothing || std::ranges::equal(m.rule_params, s.rule_params);
  }
  return owns_nothing;
}

void InForceWaiters::Add(uint16_t host, std::string what, std::string done_reply,
                         InForceTarget target, TimePoint start, TimePoint deadline, Reply reply) {
  waiters_.push_back({host, std::move(what), std::move(done_reply), std::move(target), start,
                      deadline, std::move(reply)});
}

void InForceWaiters::Check(const InForceState& state, TimePoint now) {
  const bool in_force = CommandInForce(state);
  // Taken out first: a reply may run code that adds a waiter.
  std::vector<std::pair<Waiter, bool>> due;  // and whether the host still announces its target
  std::erase_if(waiters_, [&](Waiter& w) {
    const bool announced = Announces(state, w.target);
    if (announced && !in_force && now < w.deadline) return false;
    due.emplace_back(std::move(w), announced);
    return true;
  });
  for (auto& [w, announced] : due) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - w.start);
    if (!announced) {
      w.reply(ControlRefusal(
          w.host, "not_in_force",
          "'" + w.what + "' was applied on host " + std::to_string(w.host) +
              ", but what this host announces changed again after " +
              std::to_string(waited.count()) +
              " ms, before the cluster had converged on it (a later command, a health check, or "
              "the host leaving the cluster): see nlbctl query"));
      continue;
    }
    if (in_force && w.done_reply.ends_with('}')) {
      w.done_reply.pop_back();
      w.reply(w.done_reply + ",\"in_force_ms\":" + std::to_string(waited.count()) + "}");
      continue;
    }
    w.reply(ControlRefusal(w.host, "not_in_force",
                           "'" + w.what + "' is applied on host " + std::to_string(w.host) +
                               ", but the cluster had not converged on it after " +
                               std::to_string(waited.count()) +
                               " ms: it stays applied and takes effect when the cluster "
                               "converges (see nlbctl query)"));
  }
}

std::optional<InForceWaiters::TimePoint> InForceWaiters::NextDeadline() const {
  std::optional<TimePoint> next;
  for (const Waiter& w : waiters_) {
    if (!next || w.deadline < *next) next = w.deadline;
  }
  return next;
}

}  // namespace nlb
