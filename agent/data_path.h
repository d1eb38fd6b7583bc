// DataPath: the per-packet loop of the libpcap back end. Captured frame -> Decide() against the
// current map snapshot -> accepted IP packet written to the TUN device, neighbour request
// answered by the NeighbourResponder, everything else dropped; every frame counted. It is the
// only deliverer of this back end: nothing in the kernel delivers a VIP packet by itself, so a
// stopped nlbd (or one whose lease ran out) writes nothing to the TUN device and serves nothing.
//
// Runs on its own thread, not on the agent's Boost.Asio loop: near the capture's ceiling (~400k
// packets/s on one core here) the loop would be busy with packets, and heartbeats and convergence
// timers must not starve exactly when the host is loaded, or the cluster would drop the host for
// being busy. The contracts were made for this: the snapshot is read through one atomic pointer
// (once per batch), and DecisionCounters has one writer and relaxed readers. The per-packet path
// allocates nothing, throws nothing and takes no lock.
//
// Start/Stop and the accessors: control thread. Counters: any thread.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "agent/neighbour_responder.h"
#include "agent/packet_capture.h"
#include "agent/tun_device.h"
#include "common/decision.h"
#include "common/descriptor_table.h"
#include "common/map_snapshot.h"
#include "common/status.h"

namespace nlb::agent {

struct DataPathCounters {
  std::atomic<uint64_t> delivered{0};         // accepted and written to the TUN device
  std::atomic<uint64_t> delivery_errors{0};   // accepted but the TUN write failed
  std::atomic<uint64_t> truncated{0};         // cut at snaplen: dropped (counted also as malformed)
  std::atomic<uint64_t> neighbour_silent{0};  // neighbour requests left unanswered (not serving)
  std::atomic<uint64_t> capture_errors{0};
  std::atomic<uint64_t> capture_dropped{0};  // the kernel ring overflowed (from pcap_stats)
  std::atomic<uint64_t> lease_expired{0};    // batches decided as not serving: lease expired
  // Frames decided as not serving because the lease ended inside their batch (the process was
  // stopped or starved inside the batch).
  std::atomic<uint64_t> lease_expired_frames{0};
};

class DataPath final {
 public:
  // The four objects must outlive the DataPath. answer_when_not_serving: whether a host that is
  // stopped or not converged still answers ARP/NDP (all hosts answer alike, so it may).
  DataPath(PacketCapture& capture, const TunDevice& tun, NeighbourResponder& responder,
           const SnapshotHolder& snapshots, bool answer_when_not_serving = false);
  ~DataPath();  // stops the thread
  DataPath(const DataPath&) = delete;
  DataPath& operator=(const DataPath&) = delete;

  // Connection tracking (docs/connection-tracking.md): decide with DecideTracked against this
  // table, which the data path thread then owns (its single writer), and sweep it between
  // batches. REQUIRES: not started; table outlives the DataPath.
  void UseDescriptorTable(DescriptorTable* table) { table_ = table; }
  // The generation of the oldest snapshot a batch may still be deciding by; kIdle when no batch
  // runs. A caller that published generation g, then reads AppliedGeneration() >= g, knows no
  // packet is decided by an older map any more (the data path marks itself busy before loading
  // the snapshot; both sides use sequentially consistent operations).
  static constexpr uint64_t kIdle = UINT64_MAX;
  uint64_t AppliedGeneration() const { return batch_generation_.load(); }

  // Health (the agent leaves the cluster while it is bad, docs/data-path.md): the thread ended
  // (exited), or the capture has failed since failing_since (nullopt: it works).
  bool exited() const { return exited_.load(); }
  std::optional<std::chrono::steady_clock::time_point> failing_since() const;

  // REQUIRES: not started.
  Status Start();
  // Returns after the thread has finished its current batch and exited. Idempotent.
  void Stop();

  const DecisionCounters& decisions() const { return decisions_; }
  // The epoch of the rule numbering decisions()' per-rule figures are indexed by (0 before the
  // first; kRenumbering while they move). It trails the snapshot's after a reload until this
  // thread's next round (up to a second when idle). A reader that finds the same epoch before
  // and after its reads (an acquire fence before the second) read figures of that numbering.
  static constexpr uint64_t kRenumbering = UINT64_MAX;
  uint64_t decisions_epoch() const { return decisions_epoch_.load(std::memory_order_acquire); }
  const DataPathCounters& counters() const { return counters_; }

 private:
  static void OnFrame(void* self, std::span<const uint8_t> frame, uint32_t wire_length);
  void Run();
  // Sleeps length unless Stop wakes it; false when stopping.
  bool Nap(std::chrono::microseconds length, pollfd* stop);
  // The snapshot a batch decides by once the lease has ended: the VIPs, serving nothing.
  const MapSnapshot& Unleased(const MapSnapshot& snapshot);
  void Handle(std::span<const uint8_t> frame, uint32_t wire_length);
  void Sweep(const MapSnapshot& snapshot);
  // Renumbers the table and the per-rule decision counters when the snapshot's rule numbering is
  // not theirs (a reload), and rebuckets the flows of a rule whose affinity changed, before any
  // packet is decided by it.
  // Allocates nothing: it runs on this thread between batches.
  void FollowNumbering(const MapSnapshot& snapshot);
  void Bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  PacketCapture& capture_;
  const TunDevice& tun_;
  NeighbourResponder& responder_;
  const SnapshotHolder& snapshots_;
  const bool answer_when_not_serving_;
  // The batch's snapshot, set before each Dispatch; only the data path thread touches it.
  const MapSnapshot* current_ = nullptr;
  DescriptorTable* table_ = nullptr;
  // The table's and decisions_' numbering; data path thread only.
  std::shared_ptr<const RuleNumbering> numbering_;
  RuleRemap remap_{};
  uint64_t keyed_generation_ = UINT64_MAX;       // the snapshot generation the table's keys follow
  std::chrono::steady_clock::time_point now_{};  // read once per batch
  std::chrono::steady_clock::time_point last_sweep_{};
  std::atomic<uint64_t> batch_generation_{kIdle};
  DecisionCounters decisions_;
  std::atomic<uint64_t> decisions_epoch_{0};
  DataPathCounters counters_;
  int stop_fd_ = -1;                   // eventfd that wakes the thread for Stop
  std::atomic<bool> stopping_{false};  // seen between naps, when the thread is not in poll()
  std::atomic<bool> exited_{false};
  std::atomic<int64_t> failing_since_ns_{0};  // steady_clock; 0: the capture works
  // Decides a batch when the lease has expired: the snapshot's VIPs, serving nothing.
  MapSnapshot unleased_;
  bool expired_in_batch_ = false;  // the lease ended after this batch began
  std::thread thread_;
};

}  // namespace nlb::agent
