#include "common/moving_buckets.h"

#include <algorithm>

namespace nlb {

namespace {

// Moves each new index's element from its old index; new ones (kRuleRemoved) start empty.
template <typename T>
std::vector<T> Rearranged(std::vector<T>& old, std::span<const size_t> old_of_new) {
  std::vector<T> next(old_of_new.size());
  for (size_t n = 0; n < old_of_new.size(); ++n) {
    const size_t o = old_of_new[n];
    if (o != kRuleRemoved && o < old.size()) next[n] = std::move(old[o]);
  }
  return next;
}

}  // namespace

void MovingBuckets::Rekey(std::span<const size_t> old_of_new, bool reports) {
  owned_ = Rearranged(owned_, old_of_new);
  holding_ = Rearranged(holding_, old_of_new);
  presumed_ = Rearranged(presumed_, old_of_new);
  gained_ = Rearranged(gained_, old_of_new);
  lost_at_ = Rearranged(lost_at_, old_of_new);
  gained_at_ = Rearranged(gained_at_, old_of_new);
  if (reports) {
    for (auto& [key, report] : reports_) {
      if (report.rules.empty()) continue;  // no bucket at all: nothing to move
      report.rules = Rearranged(report.rules, old_of_new);
      report.empty = true;
      for (const BucketSet& b : report.rules) report.empty &= b.Empty();
    }
  }
  others_dirty_ = true;
  changed_ = true;  // the per-rule snapshot vectors are in the old order
  Dirty();
}

void MovingBuckets::RenumberRules(std::span<const size_t> old_of_new) { Rekey(old_of_new, true); }

void MovingBuckets::OnMapAdopted(const ConvergedMap* previous, const ConvergedMap& next,
                                 TimePoint now) {
  const size_t rules = next.rules.size();
  // Per rule of next, its index in previous. Without a previous map (or with state of another
  // map, which cannot happen while Convergence renumbers both together) nothing carries over.
  std::vector<size_t> old_of_new(rules, kRuleRemoved);
  if (previous != nullptr && previous->rules.size() == owned_.size()) {
    old_of_new = MatchRulesByName(RuleNames(next), RuleNames(*previous));
  }
  Rekey(old_of_new, false);
  presumed_.assign(rules, BucketSet());
  for (size_t r = 0; r < rules; ++r) {
    const std::vector<uint16_t>& owners = next.rules[r].bucket_owner;
    const size_t o = old_of_new[r];
    const std::vector<uint16_t>* before =
        o != kRuleRemoved && previous->rules[o].bucket_owner.size() == kBucketCount
            ? &previous->rules[o].bucket_owner
            : nullptr;
    // A host without a previous map presumes every owned bucket contested (it may be joining a
    // cluster that serves them); a rule new to a map it had cannot have connections anywhere.
    const bool new_rule = previous != nullptr && before == nullptr;
    BucketSet owned;
    for (uint32_t b = 0; b < owners.size() && b < kBucketCount; ++b) {
      const bool mine = owners[b] == local_;
      const bool was_mine = before != nullptr ? (*before)[b] == local_ : false;
      if (mine) owned.Add(b);
      if (mine && !was_mine && !new_rule) {
        if (gained_at_[r].empty()) gained_at_[r].resize(kBucketCount);
        presumed_[r].Add(b);
        gained_[r].Add(b);
        gained_at_[r][b] = now;
        holding_[r].Remove(b);
      } else if (!mine && was_mine && serving_) {
        if (lost_at_[r].empty()) lost_at_[r].resize(kBucketCount);
        holding_[r].Add(b);
        lost_at_[r][b] = now;
        gained_[r].Remove(b);
      } else if (!mine) {
        gained_[r].Remove(b);
      } else {
        holding_[r].Remove(b);
      }
    }
    if (owners.empty()) {  // single-host and disabled rules: nothing moves
      holding_[r].Clear();
      gained_[r].Clear();
    }
    owned_[r] = owned;
  }
  map_view_ = next.view_digest;
  map_generation_ = next.generation;
  has_map_ = true;
  presumption_open_ = true;
  others_dirty_ = true;
  next_timeout_ = std::min(next_timeout_, now + timeout_);
  Dirty();
}

void MovingBuckets::OnRulesRekeyed(std::span<const size_t> rules, uint64_t generation,
                                   TimePoint now) {
  if (!has_map_) return;
  for (const size_t r : rules) {
    if (r >= owned_.size()) continue;
    if (lost_at_[r].empty()) lost_at_[r].resize(kBucketCount);
    if (gained_at_[r].empty()) gained_at_[r].resize(kBucketCount);
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      if (owned_[r].Contains(b)) {
        presumed_[r].Add(b);
        gained_[r].Add(b);
        gained_at_[r][b] = now;
        holding_[r].Remove(b);
      } else if (serving_) {
        holding_[r].Add(b);
        lost_at_[r][b] = now;
        gained_[r].Remove(b);
      }
    }
  }
  for (auto& [key, report] : reports_) report.map_current = false;
  map_generation_ = generation;
  presumption_open_ = true;
  others_dirty_ = true;
  next_timeout_ = std::min(next_timeout_, now + timeout_);
  Dirty();
}

void MovingBuckets::OnMapDropped() {
  has_map_ = false;
  for (auto* sets : {&owned_, &holding_, &presumed_, &gained_}) {
    for (BucketSet& s : *sets) s.Clear();
  }
  Dirty();
}

void MovingBuckets::SetServing(bool serving) {
  serving_ = serving;
  if (!serving) {
    for (BucketSet& s : holding_) s.Clear();
    Dirty();
  }
}

void MovingBuckets::SetLocalConnections(std::span<const BucketSet> per_rule,
                                        uint64_t applied_generation) {
  // Before the data path decides by the new map, a lost bucket may still gain a connection.
  if (!has_map_ || applied_generation < map_generation_) return;
  for (size_t r = 0; r < holding_.size(); ++r) {
    BucketSet& held = holding_[r];
    for (size_t w = 0; w < BucketSet::kWords; ++w) {
      const uint64_t before = held.word(w);
      if (before == 0) continue;
      const uint64_t after = r < per_rule.size() ? before & per_rule[r].word(w) : 0;
      if (after != before) {
        held.set_word(w, after);
        Dirty();
      }
    }
  }
}

void MovingBuckets::OnPeerReport(uint16_t host_id, uint64_t boot_id, uint64_t sequence,
                                 const Digest& view, bool map_current,
                                 std::vector<BucketSet> per_rule) {
  Report& report = reports_[{host_id, boot_id}];
  if (report.sequence != 0 && sequence <= report.sequence) return;
  const bool same =
      report.rules == per_rule && report.view == view && report.map_current == map_current;
  report.sequence = sequence;
  if (same) return;
  const bool was_empty = report.empty;
  report.view = view;
  report.map_current = map_current;
  report.rules = std::move(per_rule);
  report.empty = true;
  for (const BucketSet& b : report.rules) report.empty &= b.Empty();
  if (!(was_empty && report.empty)) others_dirty_ = true;
  Dirty();
}

void MovingBuckets::ConfirmCurrent(uint16_t host_id, uint64_t boot_id, uint64_t sequence) {
  auto it = reports_.find({host_id, boot_id});
  if (it == reports_.end() || it->second.sequence != sequence || it->second.map_current) return;
  it->second.map_current = true;
  Dirty();  // the presumption may close
}

void MovingBuckets::RetainMembers(std::span<const ViewMember> view) {
  std::vector<PeerKey> members;
  for (const ViewMember& m : view) {
    if (m.host_id != local_) members.emplace_back(m.host_id, m.boot_id);
  }
  if (members == members_) return;
  members_ = std::move(members);  // sorted, as the view is
  for (auto it = reports_.begin(); it != reports_.end();) {
    if (!std::binary_search(members_.begin(), members_.end(), it->first)) {
      it = reports_.erase(it);
    } else {
      ++it;
    }
  }
  others_dirty_ = true;
  Dirty();  // the presumption may close with fewer members to wait for
}

void MovingBuckets::Tick(TimePoint now) {
  if (now < next_timeout_) return;
  next_timeout_ = TimePoint::max();
  for (size_t r = 0; r < owned_.size(); ++r) {
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      if (holding_[r].Contains(b)) {
        if (now >= lost_at_[r][b] + timeout_) {
          holding_[r].Remove(b);
          Dirty();
        } else {
          next_timeout_ = std::min(next_timeout_, lost_at_[r][b] + timeout_);
        }
      }
      if (gained_[r].Contains(b)) {
        if (now >= gained_at_[r][b] + timeout_) {
          gained_[r].Remove(b);
          Dirty();
        } else {
          next_timeout_ = std::min(next_timeout_, gained_at_[r][b] + timeout_);
        }
      }
    }
  }
}

void MovingBuckets::Rebuild() {
  if (!dirty_) return;
  dirty_ = false;
  if (others_dirty_) {
    others_dirty_ = false;
    others_.assign(owned_.size(), BucketSet());
    for (const auto& [key, report] : reports_) {
      if (report.empty) continue;
      for (size_t r = 0; r < others_.size() && r < report.rules.size(); ++r) {
        others_[r] |= report.rules[r];
      }
    }
  }
  if (presumption_open_) {
    bool all_reported = true;
    for (const PeerKey& m : members_) {
      auto it = reports_.find(m);
      all_reported &=
          it != reports_.end() && it->second.map_current && it->second.view == map_view_;
      if (!all_reported) break;
    }
    if (all_reported) {
      presumption_open_ = false;
      for (BucketSet& s : presumed_) s.Clear();
    }
  }
  std::vector<std::shared_ptr<const BucketSet>> next(owned_.size());
  std::vector<std::shared_ptr<const BucketSet>> pending(owned_.size());
  for (size_t r = 0; r < owned_.size(); ++r) {
    if (has_map_ && presumption_open_) {
      auto set = std::make_shared<BucketSet>();
      bool any = false;
      for (size_t w = 0; w < BucketSet::kWords; ++w) {
        const uint64_t word = presumed_[r].word(w) & gained_[r].word(w) & owned_[r].word(w);
        set->set_word(w, word);
        any |= word != 0;
      }
      if (any) pending[r] = std::move(set);
    }
    auto set = std::make_shared<BucketSet>();
    bool any = false;
    for (size_t w = 0; w < BucketSet::kWords; ++w) {
      const uint64_t others = presumed_[r].word(w) | (r < others_.size() ? others_[r].word(w) : 0);
      const uint64_t contested = owned_[r].word(w) & gained_[r].word(w) & others;
      const uint64_t held = holding_[r].word(w) & ~owned_[r].word(w);
      const uint64_t word = has_map_ ? (contested | held) : 0;
      set->set_word(w, word);
      any |= word != 0;
    }
    if (any) next[r] = std::move(set);
  }
  auto equal = [](const std::shared_ptr<const BucketSet>& a,
                  const std::shared_ptr<const BucketSet>& b) {
    return a == nullptr ? b == nullptr : (b != nullptr && *a == *b);
  };
  if (!std::equal(next.begin(), next.end(), snapshot_.begin(), snapshot_.end(), equal) ||
      !std::equal(pending.begin(), pending.end(), pending_snapshot_.begin(),
                  pending_snapshot_.end(), equal)) {
    changed_ = true;
  }
  snapshot_ = std::move(next);
  pending_snapshot_ = std::move(pending);
}

uint32_t MovingBuckets::HoldingCount(size_t rule) const {
  return rule < holding_.size() ? holding_[rule].Count() : 0;
}

uint32_t MovingBuckets::ContestedCount(size_t rule) const {
  if (rule >= snapshot_.size() || snapshot_[rule] == nullptr) return 0;
  uint32_t n = 0;
  for (size_t w = 0; w < BucketSet::kWords; ++w) {
    n += static_cast<uint32_t>(std::popcount(snapshot_[rule]->word(w) & owned_[rule].word(w)));
  }
  return n;
}

}  // namespace nlb
