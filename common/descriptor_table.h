// DescriptorTable: this host's TCP connections, so that a bucket can change owner without
// resetting the connections in it (docs/connection-tracking.md).
//
// Fixed capacity, open addressing with linear probing inside a bounded probe window, deletion by
// backward shift (no tombstones), and nothing allocated after construction. A flow is keyed by
// (rule index, client address and port, VIP and port); its value is the bucket it hashed to, its
// state and when it was last seen. Accepted SYNs add flows (Open), accepted packets of tracked
// flows refresh them (Touch; FIN or RST mark them closing), and Sweep removes, a few slots at a
// time, closing flows close_delay after their last packet and the others after idle_timeout.
// Full: an Open evicts the closing (else the expired) flow seen longest ago in its probe window,
// else it is refused and counted in table_full; the flow then is not tracked.
//
// Threads: one writer, the data path thread, calls every non-const method and Find. Connections()
// and counters() may be read from any thread (relaxed atomics): the control thread reads the
// per-bucket counts to report which moved buckets still hold connections, after checking
// rule_epoch() (the counts are per rule index, and a reload may renumber the rules).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "common/flow_hash.h"
#include "common/ip_address.h"
#include "common/port_rule.h"

namespace nlb {

// Rule indexes the table counts connections for (the heartbeat's rule limit).
inline constexpr uint32_t kMaxTrackedRules = 128;

struct FlowKey {
  IpAddress client;
  IpAddress vip;
  uint16_t client_port = 0;
  uint16_t vip_port = 0;
  uint8_t rule_index = 0;  // < kMaxTrackedRules
};

enum class FlowState : uint8_t { kFree = 0, kOpen, kClosing };

struct DescriptorTableOptions {
  uint32_t capacity = 1048576;  // flows; at least 16
  std::chrono::seconds idle_timeout{900};
  std::chrono::seconds close_delay{10};
  uint64_t seed = 0;  // hash seed: random per process, so that clients cannot aim at one window
};

// Single writer (data path), relaxed readers.
struct DescriptorTableCounters {
  std::atomic<uint64_t> added{0};
  std::atomic<uint64_t> closed{0};          // FIN or RST seen on a tracked flow
  std::atomic<uint64_t> removed_closed{0};  // swept close_delay after closing
  std::atomic<uint64_t> removed_idle{0};    // swept after idle_timeout
  std::atomic<uint64_t> removed_moved{0};   // its bucket is no longer this host's (see Sweep)
  std::atomic<uint64_t> removed_other{0};   // Remove(): a new SYN went to the bucket's owner
  std::atomic<uint64_t> evicted{0};         // replaced by a new flow while the table was full
  std::atomic<uint64_t> table_full{0};      // a new flow refused: nothing evictable in its window
};

class DescriptorTable {
 public:
  // Slots examined from a flow's home slot; every flow lives within this window of it.
  static constexpr uint32_t kProbeWindow = 64;

  enum class OpenResult : uint8_t { kAdded, kExisting, kEvicted, kFull, kInvalid };

  // Allocates everything now: 44 bytes per slot at 2 slots per flow of capacity (so that a full
  // table is half loaded and probe runs stay far below the window), plus 4 bytes per
  // (rule, bucket) of counts (8 MiB). origin: times are kept as seconds after it.
  DescriptorTable(const DescriptorTableOptions& options,
                  std::chrono::steady_clock::time_point origin);
  DescriptorTable(const DescriptorTable&) = delete;
  DescriptorTable& operator=(const DescriptorTable&) = delete;

  // An accepted SYN: adds the flow, or reopens a tracked one (a retransmitted SYN, or the port
  // reused after a close). kInvalid when rule_index >= kMaxTrackedRules or bucket is out of range.
  OpenResult Open(const FlowKey& key, uint32_t bucket, std::chrono::steady_clock::time_point now);
  // An accepted packet of the flow: refreshes it; FIN or RST in tcp_flags mark it closing.
  // Returns false (and changes nothing) when the flow is not tracked.
  bool Touch(const FlowKey& key, uint8_t tcp_flags, std::chrono::steady_clock::time_point now);
  bool Contains(const FlowKey& key) const { return FindSlot(key) != kNoSlot; }
  // Forgets a flow; false when it was not tracked.
  bool Remove(const FlowKey& key);

  // A reload renumbered the rules (common/rule_numbering.h): a flow of rule r moves to rule
  // old_to_new[r] with its counts, or is removed (counted in removed_moved) when that is 0xff.
  // O(slots), nothing allocated: once per renumbering reload, never per packet. Afterwards
  // rule_epoch() returns epoch, so that a reader of the counts knows which numbering they are in.
  void Renumber(const std::array<uint8_t, kMaxTrackedRules>& old_to_new, uint64_t epoch);
  // The numbering epoch of the last Renumber (0 before any). Any thread; read it before the
  // counts: counts read after it returned e are in numbering e or a later one.
  uint64_t rule_epoch() const { return rule_epoch_.load(std::memory_order_acquire); }
  // The client key (affinity) rule_index now hashes by. The first call for a rule records it; a
  // different key later recomputes the bucket of every flow of that rule and moves its counts,
  // so that the counts and the sweep speak of the buckets the new key gives (an affinity change
  // by reload, docs/connection-tracking.md). O(slots) when the key changed and the rule has
  // flows, else O(1); nothing allocated. Renumber carries the recorded keys with their rules.
  void SetClientKey(uint8_t rule_index, ClientKey key);
  // The map generation whose client keys the buckets, and so the counts, follow: the data path
  // sets it after the SetClientKey calls for a snapshot of that generation, before it decides
  // by it. Any thread; read it before the counts: counts read after it returned g are bucketed
  // by the keys of generation g or a later one. A reader must not trust counts for a newer map
  // than this (an affinity change moves every connection to another bucket): the data path may
  // not have loaded that map yet, even when it is idle (docs/connection-tracking.md).
  void SetKeyGeneration(uint64_t generation) {
    key_generation_.store(generation, std::memory_order_release);
  }
  uint64_t key_generation() const { return key_generation_.load(std::memory_order_acquire); }

  // Examines the next max_slots slots (round robin) and removes expired flows and flows for
  // which keep(rule_index, bucket) returns false. Returns how many were removed. Called between
  // batches, so the cost per packet stays bounded whatever the table size.
  template <typename Keep>
  uint32_t Sweep(std::chrono::steady_clock::time_point now, uint32_t max_slots, Keep&& keep);

  // Calls fn(key, bucket, state, last_seen_seconds_after_origin) for every flow; O(slots).
  // Diagnostics and tests only (the writer's thread).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (uint32_t i = 0; i < slot_count_; ++i) {
      const Entry& e = slots_[i];
      if (StateOf(e) == FlowState::kFree) continue;
      FlowKey key;
      key.client.family =
          (e.state_family & 4) != 0 ? IpAddress::Family::kV6 : IpAddress::Family::kV4;
      key.client.bytes = e.client;
      key.vip.family = key.client.family;
      key.vip.bytes = e.vip;
      key.client_port = e.client_port;
      key.vip_port = e.vip_port;
      key.rule_index = e.rule_index;
      fn(key, static_cast<uint32_t>(e.bucket), StateOf(e), e.last_seen);
    }
  }

  // Tracked connections (open or closing) in one bucket of one rule, and per rule. Any thread.
  uint32_t Connections(uint32_t rule_index, uint32_t bucket) const {
    return counts_[rule_index * kBucketCount + bucket].load(std::memory_order_relaxed);
  }
  uint64_t RuleConnections(uint32_t rule_index) const {
    return rule_totals_[rule_index].load(std::memory_order_relaxed);
  }
  uint64_t size() const { return size_.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return capacity_; }
  uint32_t slot_count() const { return slot_count_; }
  size_t memory_bytes() const;
  const DescriptorTableCounters& counters() const { return counters_; }

  // The stored form of one flow (exposed for sizeof in docs and benchmarks).
  struct Entry {
    std::array<uint8_t, 16> client;
    std::array<uint8_t, 16> vip;
    uint32_t last_seen;  // seconds after origin
    uint16_t client_port;
    uint16_t vip_port;
    uint16_t bucket;
    uint8_t rule_index;
    uint8_t state_family;  // low 2 bits FlowState, bit 2 set for IPv6
  };

 private:
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  uint32_t Seconds(std::chrono::steady_clock::time_point now) const;
  uint64_t Hash(const FlowKey& key) const;
  uint64_t HashEntry(const Entry& e) const;
  uint32_t Home(uint64_t hash) const {
    return static_cast<uint32_t>(
        (static_cast<uint64_t>(static_cast<uint32_t>(hash >> 32)) * slot_count_) >> 32);
  }
  uint32_t Next(uint32_t slot) const { return slot + 1 == slot_count_ ? 0 : slot + 1; }
  uint32_t Distance(uint32_t from, uint32_t to) const {
    return to >= from ? to - from : to + slot_count_ - from;
  }
  static FlowState StateOf(const Entry& e) { return static_cast<FlowState>(e.state_family & 3); }
  static bool Matches(const Entry& e, const FlowKey& key);
  bool Expired(const Entry& e, uint32_t now_s) const;
  uint32_t FindSlot(const FlowKey& key) const;
  void Fill(Entry& e, const FlowKey& key, uint32_t bucket, uint32_t now_s);
  void CountAdd(const Entry& e, int delta);
  // Frees slot and shifts the following cluster back so lookups never need tombstones.
  void EraseSlot(uint32_t slot);
  static void Bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  const uint32_t capacity_;
  const uint32_t slot_count_;
  const uint32_t idle_s_;
  const uint32_t close_s_;
  const uint64_t seed_;
  const std::chrono::steady_clock::time_point origin_;
  std::unique_ptr<Entry[]> slots_;
  std::unique_ptr<std::atomic<uint32_t>[]> counts_;  // kMaxTrackedRules * kBucketCount
  std::unique_ptr<std::atomic<uint64_t>[]> rule_totals_;
  std::atomic<uint64_t> size_{0};
  std::atomic<uint64_t> rule_epoch_{0};
  std::atomic<uint64_t> key_generation_{0};
  std::array<ClientKey, kMaxTrackedRules> client_keys_{};  // per rule index, see SetClientKey
  std::array<bool, kMaxTrackedRules> keyed_{};             // client_keys_[r] was recorded
  uint32_t cursor_ = 0;
  DescriptorTableCounters counters_;
};

template <typename Keep>
uint32_t DescriptorTable::Sweep(std::chrono::steady_clock::time_point now, uint32_t max_slots,
                                Keep&& keep) {
  const uint32_t now_s = Seconds(now);
  uint32_t removed = 0;
  for (uint32_t n = 0; n < max_slots && n < slot_count_; ++n) {
    // A backward shift may move a later flow into this slot: look at it again before moving on.
    while (StateOf(slots_[cursor_]) != FlowState::kFree) {
      const Entry& e = slots_[cursor_];
      if (Expired(e, now_s)) {
        Bump(StateOf(e) == FlowState::kClosing ? counters_.removed_closed : counters_.removed_idle);
      } else if (!keep(static_cast<uint32_t>(e.rule_index), static_cast<uint32_t>(e.bucket))) {
        Bump(counters_.removed_moved);
      } else {
        break;
      }
      EraseSlot(cursor_);
      ++removed;
    }
    cursor_ = Next(cursor_);
  }
  return removed;
}

// The map generation a reader of the counts may take them for (MovingBuckets::
// SetLocalConnections): the data path's applied generation (DataPath::AppliedGeneration, which
// says "idle" between batches), never past the generation whose client keys the table follows.
// Read before the counts.
inline uint64_t CountsGeneration(uint64_t applied_generation, const DescriptorTable& table) {
  return std::min(applied_generation, table.key_generation());
}

}  // namespace nlb
