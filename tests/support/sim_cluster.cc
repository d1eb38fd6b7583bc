#include "tests/support/sim_cluster.h"

#include <algorithm>
#include <array>

#include "common/flow_hash.h"

namespace nlb::test {

ConvergenceConfig SimHostConfig(uint16_t host_id, uint64_t boot_id) {
  ConvergenceConfig config;
  config.cluster_name = "sim";
  config.key = kSimKey;
  config.local_host_id = host_id;
  const uint8_t address[4] = {198, 18, static_cast<uint8_t>(host_id >> 8),
                              static_cast<uint8_t>(host_id)};
  config.dedicated_address = IpAddress::V4(address);
  config.boot_id = boot_id;
  config.config_digest.fill(0xab);
  config.rule_modes = {FilteringMode::kMultipleHost, FilteringMode::kSingleHost,
                       FilteringMode::kDisabled};
  // Priorities are 1..32 (port_rule.h): hosts above 32 share the worst one.
  const uint32_t priority = std::min<uint32_t>(host_id, 32);
  config.rule_names = {"web", "mail", "telnet"};  // as connection_moves_test's rules
  config.rule_params = {{50, priority}, {50, priority}, {50, priority}};
  return config;
}

int SimCluster::Start(ConvergenceConfig config) {
  if (!config.compute_map) {
    config.compute_map = [memo = memo_](std::span<const ViewMember> members,
                                        std::span<const FilteringMode> modes,
                                        std::span<const std::string> names) {
      for (const MapMemo::Entry& e : memo->entries) {
        if (std::equal(members.begin(), members.end(), e.members.begin(), e.members.end()) &&
            std::equal(modes.begin(), modes.end(), e.modes.begin(), e.modes.end()) &&
            std::equal(names.begin(), names.end(), e.names.begin(), e.names.end())) {
          return e.map;
        }
      }
      if (memo->entries.size() == 8) memo->entries.erase(memo->entries.begin());
      memo->entries.push_back({{members.begin(), members.end()},
                               {modes.begin(), modes.end()},
                               {names.begin(), names.end()},
                               ComputeConvergedMap(members, modes, names)});
      return memo->entries.back().map;
    };
  }
  const int index = network_.Attach();
  Host& host = hosts_.emplace_back();
  host.config = config;
  host.machine.emplace(std::move(config), now_);
  host.alive = true;
  Schedule(index);
  return index;
}

void SimCluster::Restart(int index) {
  Host& host = hosts_[index];
  host.config.boot_id = NextBootId();
  host.machine.emplace(host.config, now_);
  host.alive = true;
  Schedule(index);
}

void SimCluster::Stall(int index, Duration duration, bool queue_lost) {
  Host& host = hosts_[index];
  host.stalled_until = now_ + duration;
  host.queue_lost = queue_lost;
  wakeups_.push({*host.stalled_until, index});
}

void SimCluster::Resume(int index) {
  Host& host = hosts_[index];
  host.stalled_until.reset();
  std::vector<SimNetwork::Delivery> queued = std::move(host.queued);
  host.queued.clear();
  if (host.queue_lost) queued.clear();
  for (const SimNetwork::Delivery& d : queued) {
    (void)host.machine->OnDatagram(*d.bytes, host.tick_per_datagram ? now_ : d.at);
    if (host.tick_per_datagram) Tick(index);
  }
  Tick(index);
  Schedule(index);
}

void SimCluster::Schedule(int index) {
  wakeups_.push({hosts_[index].machine->NextWakeup(), index});
}

void SimCluster::Tick(int index) {
  Host& host = hosts_[index];
  if (before_tick_) before_tick_(index);
  Convergence::Actions actions = host.machine->OnTick(now_);
  if (actions.map_changed) ++host.map_changes;
  for (const std::vector<uint8_t>& report : actions.moving_reports) {
    network_.Broadcast(index, report, now_);
  }
  if (actions.heartbeat) network_.Broadcast(index, *actions.heartbeat, now_);
  if (after_tick_) after_tick_(index, actions);
}

// Processes every event due by `until` (one event per call of the step callback is not needed:
// the callers check invariants between batches of equal time).
void SimCluster::Step(TimePoint until) {
  const std::optional<TimePoint> delivery = network_.NextDeliveryTime();
  const TimePoint wake = wakeups_.empty() ? TimePoint::max() : wakeups_.top().at;
  const TimePoint next = std::min(delivery.value_or(TimePoint::max()), wake);
  if (next > until) {
    now_ = until;
    return;
  }
  now_ = std::max(now_, next);
  if (delivery && *delivery <= wake) {
    SimNetwork::Delivery d = network_.PopDelivery();
    Host& host = hosts_[d.to];
    if (!host.alive) return;
    if (host.stalled_until) {
      host.queued.push_back(std::move(d));
      return;
    }
    (void)host.machine->OnDatagram(*d.bytes, now_);  // drops are counted by the machine
    if (host.tick_per_datagram) Tick(d.to);
    Schedule(d.to);
    return;
  }
  const Wakeup w = wakeups_.top();
  wakeups_.pop();
  Host& host = hosts_[w.index];
  // Stale entries (superseded by a later Schedule) fire early; ticking then is harmless because
  // OnTick acts only on what is due, and it keeps the queue simple.
  if (!host.alive) return;
  if (host.stalled_until) {
    if (now_ >= *host.stalled_until) Resume(w.index);
    return;
  }
  if (host.machine->NextWakeup() > now_) return;
  Tick(w.index);
  Schedule(w.index);
}

void SimCluster::Run(Duration duration, const std::function<void()>& each_step) {
  const TimePoint end = now_ + duration;
  while (now_ < end) {
    Step(end);
    if (each_step) each_step();
  }
}

std::optional<Duration> SimCluster::RunUntilAgreed(const std::set<uint16_t>& expected_ids,
                                                   Duration deadline) {
  const TimePoint start = now_;
  const TimePoint end = now_ + deadline;
  // Checking agreement costs O(hosts); once per simulated millisecond keeps 256-host runs fast
  // and the measured times exact to 1 ms.
  TimePoint next_check = now_;
  while (now_ < end) {
    if (now_ >= next_check) {
      if (ClusterAgrees(expected_ids)) return now_ - start;
      next_check = now_ + std::chrono::milliseconds(1);
    }
    Step(std::min(end, next_check));
  }
  return std::nullopt;
}

std::string SimCluster::Disagreement(const std::set<uint16_t>& expected_ids) const {
  const ConvergedMap* reference = nullptr;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    const Host& host = hosts_[i];
    if (!host.alive || !expected_ids.contains(host.config.local_host_id)) continue;
    const Convergence& c = *host.machine;
    if (c.local_kept_out()) continue;
    const std::string who = "host index " + std::to_string(i);
    if (!c.converged()) return who + " not converged";
    const ConvergedMap* map = c.CurrentMap();
    if (reference == nullptr) {
      reference = map;
      std::set<uint16_t> members;
      for (const ViewMember& m : map->members) members.insert(m.host_id);
      if (members != expected_ids) {
        return who + " has " + std::to_string(members.size()) + " members, expected " +
               std::to_string(expected_ids.size()) + " (" +
               std::to_string(c.Report().kept_out.size()) + " kept out)";
      }
    } else if (map->view_digest != reference->view_digest ||
               map->default_host_id != reference->default_host_id ||
               map->rules.size() != reference->rules.size()) {
      return who + " holds another map";
    } else {
      for (size_t r = 0; r < map->rules.size(); ++r) {
        if (map->rules[r].bucket_owner != reference->rules[r].bucket_owner ||
            map->rules[r].single_owner != reference->rules[r].single_owner) {
          return who + " owns differently in rule " + std::to_string(r);
        }
      }
    }
  }
  if (reference == nullptr) return "no live expected host";
  return "";
}

std::string SimCluster::MapDefect() const {
  // Maps equal to one already checked need no second walk over their buckets.
  std::vector<const ConvergedMap*> checked;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    if (!hosts_[i].alive) continue;
    const ConvergedMap* map = hosts_[i].machine->CurrentMap();
    if (map == nullptr) continue;
    const bool seen = std::any_of(checked.begin(), checked.end(), [map](const ConvergedMap* c) {
      if (c->members != map->members || c->rules.size() != map->rules.size()) return false;
      for (size_t r = 0; r < c->rules.size(); ++r) {
        if (c->rules[r].bucket_owner != map->rules[r].bucket_owner) return false;
      }
      return true;
    });
    if (seen) continue;
    checked.push_back(map);
    std::array<bool, kMaxHostId + 1> active{};
    bool any_active = false;
    for (const ViewMember& m : map->members) {
      if (m.role == HostRole::kActive) active[m.host_id] = any_active = true;
    }
    for (const RuleOwners& rule : map->rules) {
      if (rule.mode != FilteringMode::kMultipleHost) continue;
      if (rule.bucket_owner.size() != kBucketCount) return "bucket vector has the wrong size";
      for (uint16_t owner : rule.bucket_owner) {
        const bool ok = owner == kNoHost ? !any_active : (owner <= kMaxHostId && active[owner]);
        if (!ok) {
          return "host index " + std::to_string(i) + ": bucket owned by non-member " +
                 std::to_string(owner);
        }
      }
    }
  }
  return "";
}

}  // namespace nlb::test
