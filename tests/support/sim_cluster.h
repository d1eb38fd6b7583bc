// SimCluster: Convergence instances wired to a SimNetwork and driven the way the daemon drives
// them (OnTick at NextWakeup, OnDatagram on arrival), on a simulated clock that jumps from event
// to event. Hosts can start, crash (stop sending and receiving) and restart with a new boot id.
// Also checks the cluster invariants. The hosts share one memo of the map computation
// (ConvergenceConfig::compute_map): each would compute the same map from the same view, and at 256
// hosts that computation, repeated per host, was most of a test's time under the sanitizers.
// Single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "common/convergence.h"
#include "tests/support/sim_network.h"

namespace nlb::test {

// Three rules: multiple-host, single-host, disabled; every host weight 50, priority
// min(host id, 32).
ConvergenceConfig SimHostConfig(uint16_t host_id, uint64_t boot_id);
inline const std::vector<uint8_t> kSimKey = {'s', 'i', 'm', '-', 'k', 'e', 'y'};

class SimCluster {
 public:
  explicit SimCluster(SimNetwork::Options options) : network_(options) {}

  // Starts a host now. Returns its index (also its network endpoint).
  int Start(ConvergenceConfig config);
  int Start(uint16_t host_id) { return Start(SimHostConfig(host_id, NextBootId())); }
  void Crash(int index) { hosts_[index].alive = false; }
  // The host's loop stops for `duration` from now (SIGSTOP, a slow kernel call): it neither
  // ticks nor reads; datagrams for it queue with their arrival times (or are lost, as when the
  // socket buffer overflows, if queue_lost). When it resumes it reads the whole queue, then ticks
  // once, late, as the daemon does after a batch.
  void Stall(int index, Duration duration, bool queue_lost = false);
  // Drive a host the way the daemon did before batch reads: one tick after each datagram, and
  // liveness stamped at processing time (for tests that show what the batch read fixes).
  void SetTickPerDatagram(int index, bool on) { hosts_[index].tick_per_datagram = on; }
  // Same id and address, new boot id.
  void Restart(int index);

  // Advances simulated time by `duration`, calling `each_step` after every event.
  void Run(Duration duration, const std::function<void()>& each_step = {});
  // Runs until ClusterAgrees(expected_ids) or the deadline; returns the elapsed time if it did.
  std::optional<Duration> RunUntilAgreed(const std::set<uint16_t>& expected_ids, Duration deadline);

  // Every live, not kept-out host is converged on one map whose members are exactly
  // expected_ids. Empty string when true, else what differs.
  std::string Disagreement(const std::set<uint16_t>& expected_ids) const;
  bool ClusterAgrees(const std::set<uint16_t>& expected_ids) const {
    return Disagreement(expected_ids).empty();
  }
  // Structural check of every host's map: each bucket of each multiple-host rule has exactly one
  // owner and it is an active member of that map (or no owner when no member has weight).
  std::string MapDefect() const;

  TimePoint now() const { return now_; }
  Convergence& host(int index) { return *hosts_[index].machine; }
  const Convergence& host(int index) const { return *hosts_[index].machine; }
  bool alive(int index) const { return hosts_[index].alive; }
  int size() const { return static_cast<int>(hosts_.size()); }
  SimNetwork& network() { return network_; }
  // Every map change seen so far, per host index.
  uint64_t map_changes(int index) const { return hosts_[index].map_changes; }
  uint64_t NextBootId() { return 0x1000 + ++boots_; }
  // Called around every OnTick of a live host, as the daemon's Tick does (connection tracking
  // feeds the local counts before, and publishes a snapshot after).
  void SetTickHooks(std::function<void(int)> before,
                    std::function<void(int, const Convergence::Actions&)> after) {
    before_tick_ = std::move(before);
    after_tick_ = std::move(after);
  }

 private:
  struct Host {
    std::optional<Convergence> machine;
    ConvergenceConfig config;
    bool alive = false;
    uint64_t map_changes = 0;
    std::optional<TimePoint> stalled_until;
    bool queue_lost = false;
    bool tick_per_datagram = false;
    std::vector<SimNetwork::Delivery> queued;  // arrived while stalled, in arrival order
  };
  struct Wakeup {
    TimePoint at;
    int index;
    bool operator>(const Wakeup& other) const { return at > other.at; }
  };
  void Tick(int index);
  void Resume(int index);
  void Schedule(int index);
  void Step(TimePoint until);

  // The last maps computed, with their inputs; shared by every host's compute_map.
  struct MapMemo {
    struct Entry {
      std::vector<ViewMember> members;
      std::vector<FilteringMode> modes;
      std::vector<std::string> names;
      ConvergedMap map;
    };
    std::vector<Entry> entries;  // most recent last, at most 8
  };

  SimNetwork network_;
  std::shared_ptr<MapMemo> memo_ = std::make_shared<MapMemo>();
  std::vector<Host> hosts_;
  std::priority_queue<Wakeup, std::vector<Wakeup>, std::greater<>> wakeups_;
  TimePoint now_{std::chrono::hours(1)};  // not zero: nothing may depend on the clock's epoch
  uint64_t boots_ = 0;
  std::function<void(int)> before_tick_;
  std::function<void(int, const Convergence::Actions&)> after_tick_;
};

}  // namespace nlb::test
