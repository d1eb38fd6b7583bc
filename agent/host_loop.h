// HostLoop: the agent's control loop on one host, in the order the cluster's promises need. It
// ticks convergence at its wakeups and once after each batch of queued heartbeats, publishes a
// new map through the MapPublisher (CaptureSwitch or BpfSwitch) before this host announces it
// (holding heartbeats while a map is on its way into the kernel), grants the lease per heartbeat
// sent, and leaves the cluster while this host cannot serve (Block). Set-up, operator commands and
// views stay in Agent, which is its HostLoopOwner.
//
// It holds only narrow parts (LoopClock, DatagramSink, Convergence, MapPublisher,
// SnapshotHolder), so the code nlbd runs is the code the simulated clusters of
// tests/support/sim_agent.h run on simulated time. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "agent/datagram_reader.h"
#include "agent/datagram_sink.h"
#include "agent/loop_clock.h"
#include "agent/map_publisher.h"
#include "common/convergence.h"
#include "common/loop_lag.h"
#include "common/map_snapshot.h"
#include "config/cluster_config.h"

namespace nlb::agent {

// The lease's length (docs/protocol.md, "The lease"): the peers' tolerance x period less
// max(half a period, 30 ms).
std::chrono::milliseconds LeaseLength(std::chrono::milliseconds period, uint32_t tolerance);
// A kernel step that holds the announcement longer than max(tolerance x period, 1 s) makes the
// host leave (BpfSwitch's deadline).
std::chrono::milliseconds KernelDeadline(std::chrono::milliseconds period, uint32_t tolerance);

// What the loop asks of the rest of the agent. Loop thread.
class HostLoopOwner {
 public:
  virtual ~HostLoopOwner() = default;
  virtual HostRole role() const = 0;  // the operator's (HostLoop::AnnouncedRole adds blocking)
  // Before each tick: the data path's health (may Block), the watchdog, connection counts.
  virtual void BeforeTick(std::chrono::steady_clock::time_point now) = 0;
  // After each tick: logs and events, the neighbour announcement, a finished drainstop.
  virtual void AfterTick(const ConvergenceReport& before, const ConvergenceReport& after,
                         bool map_changed) = 0;
  // The operator's part of a snapshot built from a map: disabled rules, a stopped or
  // suspended host.
  virtual void Restrict(MapSnapshot& snapshot) const = 0;
  virtual std::shared_ptr<const RuleNumbering> numbering() const = 0;
  virtual void NoteEvent(std::string line) = 0;
};

class HostLoop {
 public:
  // The reasons this host leaves the cluster by itself until they are gone (bits).
  enum BlockReason : uint8_t { kBlockKernel = 1, kBlockDataPath = 2 };

  // All references outlive the loop; config is the agent's, changed in place by reloads.
  HostLoop(LoopClock& clock, const NodeConfig& config, Convergence& convergence,
           SnapshotHolder& snapshots, MapPublisher& publisher, HostLoopOwner& owner,
           std::chrono::milliseconds lease_length);
  // REQUIRES: set before the first tick.
  void UseSink(DatagramSink* sink) { sink_ = sink; }

  void ScheduleTick();
  void Tick();
  void Stop() { timer_->Cancel(); }
  // Applies a whole batch of queued datagrams by their arrival stamps, then ticks once.
  void OnDatagrams(std::span<const ReceivedDatagram> batch);
  // Builds the snapshot of the map in force and hands it to the publisher, which puts it in
  // force (at once on capture; after the BPF maps are written).
  void PublishSnapshot();
  // Sends the datagrams held while a map went into the kernel (PublisherHooks::announce).
  void SendHeld();
  void Block(BlockReason reason, const std::string& why);
  void Unblock(BlockReason reason);
  // The role convergence announces: the operator's, or stopped while blocked.
  HostRole AnnouncedRole() const { return blocked_ != 0 ? HostRole::kStopped : owner_.role(); }

  std::chrono::milliseconds lease_length() const { return lease_length_; }
  uint64_t lease_expiries() const { return lease_expiries_; }
  bool lease_holding() const { return lease_hold_until_.has_value(); }
  bool blocked() const { return blocked_ != 0; }
  const std::string& blocked_why() const { return blocked_why_; }
  const LoopLag& loop_lag() const { return loop_lag_; }

 private:
  // Sends a datagram, or holds it while a map must reach the kernel before this host announces
  // it (MapPublisher::holds_announcement). A sent heartbeat renews the lease.
  void Send(std::vector<uint8_t> datagram, bool heartbeat);
  // host_loop_lease.cc: the lease (docs/protocol.md).
  void GrantLease(std::chrono::steady_clock::time_point now);

  LoopClock& clock_;
  const NodeConfig& config_;
  Convergence& convergence_;
  SnapshotHolder& snapshots_;
  MapPublisher& publisher_;
  HostLoopOwner& owner_;
  DatagramSink* sink_ = nullptr;
  std::unique_ptr<LoopTimer> timer_;
  std::vector<std::pair<std::vector<uint8_t>, bool>> held_;  // waiting for the kernel
  // The lease (host_loop_lease.cc).
  const std::chrono::milliseconds lease_length_;
  bool lease_granted_ = false;
  std::optional<std::chrono::steady_clock::time_point> lease_hold_until_;
  std::chrono::steady_clock::time_point lease_ended_at_{};  // of the last expired lease
  bool map_forgotten_ = false;  // this hold dropped the map (Convergence::ForgetMap)
  uint64_t lease_expiries_ = 0;
  uint8_t blocked_ = 0;  // BlockReason bits
  std::string blocked_why_;
  // While the kernel may still deliver under a lease this host can no longer withdraw (its
  // worker is stuck), it stays silent: its peers must not take its buckets before that lease ends.
  std::chrono::steady_clock::time_point silent_until_{};
  std::chrono::steady_clock::time_point tick_due_{};
  LoopLag loop_lag_;
};

}  // namespace nlb::agent
