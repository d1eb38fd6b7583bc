// MovingBuckets: which buckets are "moving" on this host, i.e. changed owner while their old
// owner still serves tracked connections in them (docs/connection-tracking.md). Pure: no clock,
// no I/O; Convergence owns one and feeds it map adoptions, peers' reports and the local
// connection counts. Not thread-safe (the agent's event loop thread).
//
// Two sides, both per (rule, bucket):
//   holding    this host owned the bucket, the new map gives it to another host, and this host
//              still has tracked connections in it. Presumed for every lost bucket at adoption,
//              then pruned to the buckets whose connection count is non-zero once the data path
//              has applied the new map (from then on no new connection enters them). Reported
//              to the others in heartbeats and moving reports.
//   contested  this host gained the bucket and another member still holds it. Presumed for every
//              gained bucket at adoption (every owned bucket for a host without a previous map)
//              until each other member has reported under the new map; then exactly the union
//              of the members' latest reports. While presumed, the bucket is also "pending":
//              the old owner may not have adopted the new map yet and still take new
//              connections, so this host takes no SYN there either (a SYN nobody takes is
//              retransmitted; a SYN two hosts take is a broken connection).
// Both end after `timeout` from the adoption that moved the bucket; a member that leaves takes
// its holdings with it. The data path's moving bitset of a rule is contested ∪ holding (the
// first within owned buckets, the second outside them).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "common/bucket_set.h"
#include "common/cluster_view.h"
#include "common/converged_map.h"
#include "common/heartbeat.h"

namespace nlb {

class MovingBuckets {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  MovingBuckets(uint16_t local_host_id, Duration timeout)
      : local_(local_host_id), timeout_(timeout) {}

  // This host now decides by `next`; previous is the map it decided by before (nullptr if none).
  // Rules are matched by name: a kept rule compares its own old owners wherever it sits in either
  // map, and a rule previous does not have (or had as single-host or disabled) has no connection
  // anywhere, so its buckets are simply owned and none of them moves.
  void OnMapAdopted(const ConvergedMap* previous, const ConvergedMap& next, TimePoint now);
  // A reload renumbered the rules before the next map: the state of the rule that had index
  // old_of_new[n] is now rule n's, peers' latest reports included (they were made under the old
  // rules); a rule with kRuleRemoved (new) starts empty; a removed rule's state is dropped.
  void RenumberRules(std::span<const size_t> old_of_new);
  // A reload changed the client key (affinity) of these rules of the adopted map (multiple-host
  // rules, in the current numbering): every client may hash into another bucket, on every host.
  // So every bucket of each such rule moves, as if this host had owned them all before: the
  // buckets it does not own are presumed holding (pruned by SetLocalConnections once the data
  // path has applied `generation`, the map's new generation, and so rebucketed its table), the
  // owned ones are gained and presumed, so contested and pending, until every other member has
  // reported under the new rules. Reports received so far are not current any more (the caller
  // passes map_current only for reports under its own rules). Timers start now.
  void OnRulesRekeyed(std::span<const size_t> rules, uint64_t generation, TimePoint now);
  // This host has no map any more (kept out): it neither owns nor holds anything.
  void OnMapDropped();
  // A host that stopped serving (stopped, suspended) holds nothing: its connections are gone.
  void SetServing(bool serving);
  // The local table: per rule, the buckets with at least one tracked connection, read after the
  // data path had applied every snapshot up to map generation applied_generation.
  void SetLocalConnections(std::span<const BucketSet> per_rule, uint64_t applied_generation);
  // The latest complete report of member (host, boot). Older sequences are ignored.
  void OnPeerReport(uint16_t host_id, uint64_t boot_id, uint64_t sequence, const Digest& view,
                    bool map_current, std::vector<BucketSet> per_rule);
  // The heartbeat of sequence `sequence` says that the member's report of that sequence (sent
  // just before it, in moving reports) is under the map of its view and this host's rules.
  void ConfirmCurrent(uint16_t host_id, uint64_t boot_id, uint64_t sequence);
  // The current view: reports of non-members are forgotten.
  void RetainMembers(std::span<const ViewMember> view);
  // Ends the moves older than the timeout.
  void Tick(TimePoint now);
  // The next time Tick has something to do (TimePoint::max() if none).
  TimePoint NextTimeout() const { return next_timeout_; }

  // Something changed since the last TakeChanged: the caller should tick soon.
  bool dirty() const { return dirty_ || changed_; }
  // True once after the data path's bitsets (Snapshot) changed.
  bool TakeChanged() {
    Rebuild();
    const bool changed = changed_;
    changed_ = false;
    return changed;
  }
  // Per rule of the adopted map: the moving bitset for MapSnapshot (null when empty).
  const std::vector<std::shared_ptr<const BucketSet>>& Snapshot() {
    Rebuild();
    return snapshot_;
  }
  // Per rule: the gained buckets whose old owner may still take new connections (it has not
  // reported under the new map yet): this host takes no SYN there either (null when none).
  const std::vector<std::shared_ptr<const BucketSet>>& PendingSnapshot() {
    Rebuild();
    return pending_snapshot_;
  }
  // Per rule: buckets this host still serves after they moved away (what it reports).
  const std::vector<BucketSet>& holding() const { return holding_; }
  uint32_t HoldingCount(size_t rule) const;
  // From the last rebuilt snapshot (reporting only).
  uint32_t ContestedCount(size_t rule) const;

 private:
  struct Report {
    uint64_t sequence = 0;
    Digest view{};
    bool map_current = false;
    std::vector<BucketSet> rules;
    bool empty = true;  // no bucket in any rule
  };
  using PeerKey = std::pair<uint16_t, uint64_t>;

  void Rebuild();
  void Dirty() { dirty_ = true; }
  // Rebuilds the per-rule state in a new rule order (see RenumberRules); reports too if asked.
  void Rekey(std::span<const size_t> old_of_new, bool reports);

  const uint16_t local_;
  const Duration timeout_;
  Digest map_view_{};
  uint64_t map_generation_ = 0;
  bool has_map_ = false;
  bool serving_ = true;
  bool presumption_open_ = false;
  std::vector<BucketSet> owned_;     // per rule
  std::vector<BucketSet> holding_;   // per rule
  std::vector<BucketSet> presumed_;  // per rule: gained at the last adoption, not yet reported
  std::vector<BucketSet> gained_;    // per rule: gained, moves not timed out
  std::vector<std::vector<TimePoint>> lost_at_;    // per rule per bucket
  std::vector<std::vector<TimePoint>> gained_at_;  // per rule per bucket
  TimePoint next_timeout_ = TimePoint::max();
  std::vector<PeerKey> members_;  // other members
  std::map<PeerKey, Report> reports_;

  std::vector<BucketSet> others_;  // per rule: union of the members' latest reports
  bool others_dirty_ = true;
  bool dirty_ = true;
  bool changed_ = false;
  std::vector<std::shared_ptr<const BucketSet>> snapshot_;
  std::vector<std::shared_ptr<const BucketSet>> pending_snapshot_;
};

}  // namespace nlb
