// MapSnapshot: the immutable picture the data path decides by. The control side (convergence)
// builds a new snapshot and publishes it through SnapshotHolder; the data path loads it through one
// atomic pointer per batch. A snapshot is never modified after it is published.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bucket_assignment.h"
#include "common/bucket_set.h"
#include "common/ip_address.h"
#include "common/port_rule.h"
#include "common/rule_numbering.h"

namespace nlb {

// One port rule as the converged cluster applies it.
struct RuleMap {
  PortRule rule;
  // Multiple-host rules: kBucketCount owners. Empty for single-host and disabled rules.
  std::vector<uint16_t> bucket_owner;
  // Single-host rules: the live host with the best handling priority (kNoHost if none).
  uint16_t single_owner = kNoHost;
  // False when the rule was disabled at run time (nlbctl disable): its traffic drops.
  bool enabled = true;
  // Multiple-host rules, connection tracking: the buckets whose connections are moving
  // (docs/connection-tracking.md). For a bucket this host owns: other hosts still serve tracked
  // connections in it, so this host takes only new connections and its own tracked ones. For a
  // bucket another host owns: this host still serves its own tracked connections there. Null when
  // nothing moves.
  std::shared_ptr<const BucketSet> moving;
  // Owned moving buckets just gained, whose old owner may still take new connections: this host
  // takes no SYN there yet. Null when none.
  std::shared_ptr<const BucketSet> pending;
};

struct MapSnapshot {
  uint16_t local_host_id = kNoHost;
  // The live host with the lowest id: it takes traffic to a VIP that no rule covers.
  uint16_t default_host_id = kNoHost;
  // False while this host is stopped or has no converged map: it accepts nothing.
  bool serving = false;
  std::vector<IpAddress> vips;
  // Rules for one VIP come before rules for "all", so the first match is the most specific.
  std::vector<RuleMap> rules;
  uint64_t generation = 0;  // increases with every published snapshot
  // What the rule indices mean (rules[i].rule.name == numbering->names[i] when set). The data
  // path renumbers the descriptor table when it changes. Null: keep the table's numbering.
  std::shared_ptr<const RuleNumbering> numbering;
};

// SnapshotHolder: single publisher (control thread), any number of readers (data path threads).
//
// It also holds the leases (docs/protocol.md, "The lease"): the snapshot in force may be served
// only until lease_until, which the control side renews with every heartbeat it sends; a data
// path that finds the lease expired accepts nothing, so that a host whose control loop stopped
// stops serving before its peers' tolerance gives its buckets to others. kernel_lease_until is
// the lease the BPF program last took (it stops accepting by itself at that time; never set on
// the capture back end, where nothing in the kernel delivers). Both are steady_clock times in
// nanoseconds since its epoch; 0 (the start) means none.
class SnapshotHolder {
 public:
  using Clock = std::chrono::steady_clock;
  SnapshotHolder() : current_(std::make_shared<const MapSnapshot>()) {}
  std::shared_ptr<const MapSnapshot> Load() const {
    return current_.load(std::memory_order_acquire);
  }
  void Publish(std::shared_ptr<const MapSnapshot> next) {
    current_.store(std::move(next), std::memory_order_release);
  }

  void SetLease(Clock::time_point until) { lease_.store(Nanos(until), std::memory_order_release); }
  void SetKernelLease(Clock::time_point until) {
    kernel_lease_.store(Nanos(until), std::memory_order_release);
  }
  Clock::time_point lease_until() const { return Point(lease_.load(std::memory_order_acquire)); }
  Clock::time_point kernel_lease_until() const {
    return Point(kernel_lease_.load(std::memory_order_acquire));
  }

 private:
  static int64_t Nanos(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  static Clock::time_point Point(int64_t ns) {
    return Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
  }

  std::atomic<std::shared_ptr<const MapSnapshot>> current_;
  std::atomic<int64_t> lease_{0};
  std::atomic<int64_t> kernel_lease_{0};
};

}  // namespace nlb
