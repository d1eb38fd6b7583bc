// BpfFlowTable: user space's side of the kernel connection table (agent/bpf/track.bpf.h,
// docs/connection-tracking.md "The kernel table"). The program adds, promotes, refreshes and
// forgets flows in two LRU hash maps (nlb_flows, nlb_half_open); nothing in the kernel removes an
// expired entry it does not meet again, and nothing there counts connections per bucket. This
// class does both: Sweep walks both maps (batch lookups), deletes the entries past their timeout
// or in buckets this host neither owns nor still serves, and rebuilds the per-(rule, bucket)
// counts that the moving reports need (what DescriptorTable::Connections gives the capture path).
// A half-open flow counts there only within its hold (BpfSweepOptions::half_open_hold_ns), so
// that a SYN flood's flows do not keep a moved bucket busy until they expire.
// It also carries the flows through a reload that renumbers the rules (Renumber, then
// FinishRenumber around the Publish of the new numbering).
//
// Threads: one owner, the kernel worker, calls Sweep, Renumber, FinishRenumber, Clear and
// ReadCounters (each is system calls: see docs/bpf-data-plane.md for the measured cost).
// Connections, RuleConnections, counts_epoch and counts_generation may be read from any thread
// (relaxed atomics, as DescriptorTable's); the counts are those of the last completed Sweep, each
// one a whole sweep's value. The BpfPlane the table was made from must outlive it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "agent/bpf_plane.h"
#include "common/bpf/flow_key_layout.h"
#include "common/bpf/flow_table_layout.h"
#include "common/port_rule.h"
#include "common/status.h"

namespace nlb::agent {

struct BpfFlowCounters {
  // What the program did (NLB_FLOW_* in flow_key_layout.h), summed over CPUs.
  std::array<uint64_t, NLB_FLOW_COUNTER_SLOTS> program{};
  // What the sweeps removed: entries past their timeout, entries whose bucket this host neither
  // owns nor serves (the keep predicate), and flows of rules a reload removed.
  uint64_t swept_expired = 0;
  uint64_t swept_not_kept = 0;
  uint64_t renumber_removed = 0;
  // At the last sweep: entries present (live or not yet swept).
  uint64_t tracked = 0;    // nlb_flows
  uint64_t half_open = 0;  // nlb_half_open
  // Of those half-open entries, the ones kept but not counted: past their hold.
  uint64_t half_open_past_hold = 0;
  // Pushed out by the LRU, computed: added - removed (program and user space) - present. Exact
  // when no packet runs between the last sweep and the counters' read; under traffic it can be
  // off by the packets in between (never negative: clamped).
  uint64_t evicted_flows = 0;
  uint64_t evicted_half_open = 0;
};

struct BpfSweepOptions {
  // CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns's clock); 0: now. Tests pass a later time to
  // see entries expire without waiting.
  uint64_t now_ns = 0;
  // Keep the flows of (rule, bucket)? Null keeps all: the data path's rule is "owned, or moving".
  std::function<bool(uint32_t rule, uint32_t bucket)> keep;
  // The client key each rule hashes by now; when given for a rule, a flow's bucket is recomputed
  // from its key (an affinity change by reload moves every connection to another bucket); else
  // the bucket stored when its SYN was accepted counts.
  std::span<const ClientKey> rule_keys;
  // Stamped on the counts, for readers that must know which numbering (DescriptorTable::
  // rule_epoch) and which map generation (CountsGeneration) the counts are in.
  uint64_t rule_epoch = 0;
  uint64_t generation = 0;
  // A half-open entry counts in Connections only while its last packet is younger than this
  // (cluster.connection_tracking.half_open_hold_s); past it, it stays in its map, tracked packet
  // by packet while its bucket is kept, but no longer holds the bucket (a flood's SYNs would
  // hold a lost bucket until they expire). The default never releases one before it expires:
  // DescriptorTable's rule, which counts every flow it holds.
  uint64_t half_open_hold_ns = UINT64_MAX;
};

struct BpfSweepResult {
  uint64_t examined = 0;  // entries of both maps
  uint64_t removed = 0;
  uint64_t live = 0;       // counted in Connections
  uint64_t past_hold = 0;  // half-open, kept, not counted: past options.half_open_hold_ns
};

class BpfFlowTable {
 public:
  explicit BpfFlowTable(const BpfPlane& plane);
  BpfFlowTable(const BpfFlowTable&) = delete;
  BpfFlowTable& operator=(const BpfFlowTable&) = delete;

  // One full pass over both maps: O(entries present) system-call work in batches of kBatch.
  [[nodiscard]] Result<BpfSweepResult> Sweep(const BpfSweepOptions& options);

  // Live tracked connections (established, and half-open within their hold) of one bucket of one
  // rule, and per rule, at the last Sweep. Any thread. Connections is in the numbering of
  // counts_epoch; RuleConnections in the newest one: FinishRenumber moves each rule's total to its
  // new index at once, so that `report` shows a renumbered rule's connections under its name before
  // the next Sweep.
  uint32_t Connections(uint32_t rule, uint32_t bucket) const {
    if (rule >= NLB_MAX_RULES || bucket >= NLB_BUCKET_COUNT) return 0;
    return counts_[rule * NLB_BUCKET_COUNT + bucket].load(std::memory_order_relaxed);
  }
  uint64_t RuleConnections(uint32_t rule) const {
    return rule < NLB_MAX_RULES ? rule_totals_[rule].load(std::memory_order_relaxed) : 0;
  }
  // The options' rule_epoch and generation of the last Sweep. Read before the counts.
  uint64_t counts_epoch() const { return counts_epoch_.load(std::memory_order_acquire); }
  uint64_t counts_generation() const { return counts_generation_.load(std::memory_order_acquire); }

  [[nodiscard]] Result<BpfFlowCounters> ReadCounters() const;

  // A reload renumbers the rules: old_to_new[r] is rule r's new index, 0xff when it is removed.
  // REQUIRES: called before the Publish of the first snapshot in the new numbering, and
  // FinishRenumber after it, with no Sweep between the two. Renumber writes a copy of every flow of
  // a renumbered rule under its new index (so packets decided by either half find it);
  // FinishRenumber deletes the old keys and the flows of removed rules. Between the two, a packet
  // refreshes only the copy its half names.
  [[nodiscard]] Status Renumber(std::span<const uint8_t> old_to_new);
  [[nodiscard]] Status FinishRenumber();

  // Deletes every entry of both maps (tests; a restart of the data plane).
  [[nodiscard]] Status Clear();

  static constexpr uint32_t kBatch = 4096;  // entries per batch lookup

 private:
  struct Entry {
    nlb_flow_id id;
    nlb_flow value;
  };
  // Calls fn for every entry of map fd, one batch at a time.
  [[nodiscard]] Status ForEach(int fd, const std::function<void(const Entry&)>& fn);
  bool Expired(const nlb_flow& f, bool half_open, uint64_t now_ns) const;
  uint32_t BucketOf(const Entry& e, std::span<const ClientKey> rule_keys) const;

  const int flows_fd_;
  const int half_open_fd_;
  const int counters_fd_;
  const uint64_t idle_ns_;
  const uint64_t close_ns_;
  const uint64_t half_open_ns_;
  std::vector<nlb_flow_id> batch_keys_;
  std::vector<nlb_flow> batch_values_;
  std::vector<uint32_t> scratch_;  // NLB_MAX_RULES * NLB_BUCKET_COUNT
  std::unique_ptr<std::atomic<uint32_t>[]> counts_;
  std::array<std::atomic<uint64_t>, NLB_MAX_RULES> rule_totals_{};
  std::atomic<uint64_t> counts_epoch_{0};
  std::atomic<uint64_t> counts_generation_{0};
  // Renumbering in progress: the old keys to delete, and the keys written as copies.
  struct OldKey {
    int fd;
    nlb_flow_id id;
    bool rule_removed;
  };
  std::vector<OldKey> renumber_old_;
  std::vector<std::pair<int, nlb_flow_id>> renumber_new_;
  std::vector<uint8_t> renumber_map_;  // Renumber's old_to_new, for FinishRenumber's totals
  // User space's own additions and removals, for the eviction arithmetic.
  std::array<uint64_t, 2> user_added_{};    // [0] flows, [1] half-open
  std::array<uint64_t, 2> user_removed_{};  // idem
  uint64_t swept_expired_ = 0;
  uint64_t swept_not_kept_ = 0;
  uint64_t renumber_removed_ = 0;
  std::array<uint64_t, 2> present_{};  // at the last sweep
  uint64_t past_hold_ = 0;             // idem
};

}  // namespace nlb::agent
