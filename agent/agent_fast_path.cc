#include <chrono>

#include "agent/agent.h"
#include "agent/log.h"

namespace nlb::agent {

namespace {

// fast laid out along snapshot's rules (by rule content), as AttachFastPath and nft need them.
std::vector<FastPathRule> AlignedTo(const MapSnapshot& snapshot,
                                    const std::vector<FastPathRule>& fast) {
  std::vector<FastPathRule> out(snapshot.rules.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].rule = snapshot.rules[i].rule;
    for (const FastPathRule& f : fast) {
      if (f.rule == out[i].rule) out[i] = f;
    }
  }
  return out;
}

std::vector<FastPathRule> NonEmpty(std::vector<FastPathRule> fast) {
  std::erase_if(fast, [](const FastPathRule& f) { return f.Empty(); });
  return fast;
}

bool SameRules(const MapSnapshot& a, const MapSnapshot& b) {
  if (a.rules.size() != b.rules.size()) return false;
  for (size_t i = 0; i < a.rules.size(); ++i) {
    if (a.rules[i].rule != b.rules[i].rule) return false;
  }
  return true;
}

}  // namespace

// The kernel and the data path must agree on every packet: the data path tracks a connection
// only if its decision accepts the SYN, so a SYN the kernel delivered by its old chain must be
// decided by the map that chain came from. Hence, when buckets leave the kernel:
//   1. publish the map in force with the kernel's share cut to what stays (the data path now
//      delivers, by the same map, what the kernel is about to stop delivering);
//   2. cut the kernel's chain to that;
//   3. wait until the data path has drained its ring once after the cut (every frame the old
//      chain may have delivered is then decided, by the map of step 1);
// and only then:
//   4. publish the new map with the same reduced kernel share;
//   5. give the kernel the new share (buckets joining it may be delivered twice, by the kernel
//      and the data path, until the caller publishes the final snapshot: never not at all).
//      Unless grow_now, step 5 runs from a timer two heartbeat periods later: the tick's
//      heartbeat must wait for a cut (steps 1-3) but not for a gain (measured: +100-130 ms on
//      the 100 ms / 3 failover when gains ran at once).
// fast_installed_ keeps non-empty entries only, so that it survives a reload that reorders the
// rules. A reload that changes the rules empties the kernel's share for the switch.
void Agent::UpdateFastPath(MapSnapshot* snapshot, bool grow_now) {
  if (!diversion_) return;
  std::vector<FastPathRule> next;
  if (config_.host.kernel_fast_path && !fast_path_failed_) {
    next = NonEmpty(ComputeFastPath(*snapshot));
  }
  if (next == fast_installed_ && !(grow_now && fast_chain_has_cuts_)) {
    AttachFastPath(*snapshot, AlignedTo(*snapshot, next));
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::shared_ptr<const MapSnapshot> current = snapshots_.Load();
  // A reload that changes the rules empties the kernel's share for the switch.
  const bool same_rules = SameRules(*current, *snapshot);
  std::vector<FastPathRule> both;
  if (same_rules) {
    both = NonEmpty(IntersectFastPath(AlignedTo(*snapshot, next), fast_installed_));
  }
  Status s = Status::Ok();
  if (both != fast_installed_) {
    auto held = std::make_shared<MapSnapshot>(*current);  // steps 1-3
    AttachFastPath(*held, AlignedTo(*held, both));
    snapshots_.Publish(std::move(held));
    // A cut is a few drop lines at the head of the chain (a small nft script) when they can
    // catch nothing but their own rule's packets; else the whole chain is replaced.
    if (same_rules && RulesAreDisjoint(snapshot->rules)) {
      s = diversion_->CutFastPath(AlignedTo(*snapshot, FastPathDifference(fast_installed_, both)));
      if (s.ok()) fast_chain_has_cuts_ = true;
    } else {
      s = diversion_->UpdateFastPath(AlignedTo(*snapshot, both));
      if (s.ok()) fast_chain_has_cuts_ = false;
    }
    if (s.ok()) {
      fast_installed_ = both;
      if (data_path_ && !data_path_->WaitForDrainedRound(std::chrono::milliseconds(200))) {
        LogWarning("datapath",
                   "the capture did not drain within 200 ms of a fast-path switch; "
                   "connections starting in it may not be tracked");
      }
    }
  }
  const bool rewrite = next != fast_installed_ || fast_chain_has_cuts_;
  if (s.ok() && rewrite && !grow_now) {
    // Only gains (and tidying the cut lines away) are left: nothing to stop before the others
    // hear of the map. The kernel takes them two heartbeat periods later, in one nft run for
    // whatever the map has become by then: the data path delivers them meanwhile, and the
    // agent's thread (heartbeats, nlbctl) is not held up by nft runs (60-100 ms for 8k buckets)
    // while the cluster is still converging or buckets are still settling.
    if (!fast_path_grow_scheduled_) {
      fast_path_grow_scheduled_ = true;
      fast_path_grow_timer_.expires_after(
          2 * std::chrono::milliseconds(config_.cluster.heartbeat.period_ms));
      fast_path_grow_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        fast_path_grow_scheduled_ = false;
        PublishSnapshot(/*grow_now=*/true);
      });
    }
    AttachFastPath(*snapshot, AlignedTo(*snapshot, fast_installed_));
    return;
  }
  if (s.ok() && rewrite) {  // steps 4-5
    auto between = std::make_shared<MapSnapshot>(*snapshot);
    AttachFastPath(*between, AlignedTo(*between, fast_installed_));
    snapshots_.Publish(std::move(between));
    s = diversion_->UpdateFastPath(AlignedTo(*snapshot, next));
    if (s.ok()) {
      fast_installed_ = next;
      fast_chain_has_cuts_ = false;
    }
  }
  if (s.ok()) {
    AttachFastPath(*snapshot, AlignedTo(*snapshot, fast_installed_));
    fast_path_last_switch_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return;
  }
  ++fast_path_errors_;
  fast_path_failed_ = true;
  std::string line =
      "kernel fast path off until the next reload, the data path delivers "
      "everything: " +
      s.message();
  // The kernel kept its old chain, whose owners may no longer be this host's: remove it.
  if (Status t = diversion_->UpdateFastPath(AlignedTo(*snapshot, {})); t.ok()) {
    fast_installed_.clear();
    fast_chain_has_cuts_ = false;
  } else {
    line += "; removing the old fast path failed too: " + t.message();
  }
  LogError("datapath", line);
  NoteEvent(line);
  // The data path delivers everything (if even the removal failed, some packets twice).
  AttachFastPath(*snapshot, {});
}

}  // namespace nlb::agent
