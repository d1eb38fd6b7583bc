#include "common/fast_path.h"

namespace nlb {

bool FastPathEligible(const PortRule& rule) {
  switch (rule.mode) {
    case FilteringMode::kSingleHost:
      return true;
    case FilteringMode::kMultipleHost:
      return rule.affinity == Affinity::kNone || rule.affinity == Affinity::kSingle;
    case FilteringMode::kDisabled:
      return false;
  }
  return false;
}

std::vector<FastPathRule> ComputeFastPath(const MapSnapshot& snapshot) {
  std::vector<FastPathRule> out(snapshot.rules.size());
  const uint16_t local = snapshot.local_host_id;
  for (size_t i = 0; i < snapshot.rules.size(); ++i) {
    const RuleMap& map = snapshot.rules[i];
    FastPathRule& fast = out[i];
    fast.rule = map.rule;
    if (!snapshot.serving || local == kNoHost || !map.enabled || !FastPathEligible(map.rule)) {
      continue;
    }
    if (map.rule.mode == FilteringMode::kSingleHost) {
      fast.whole_rule = map.single_owner == local;
      continue;
    }
    if (map.bucket_owner.size() != kBucketCount) continue;
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      if (map.bucket_owner[b] != local) continue;
      if (map.moving != nullptr && map.moving->Contains(b)) continue;
      if (map.pending != nullptr && map.pending->Contains(b)) continue;
      fast.buckets.Add(b);
    }
  }
  return out;
}

std::vector<FastPathRule> IntersectFastPath(const std::vector<FastPathRule>& next,
                                            const std::vector<FastPathRule>& installed) {
  std::vector<FastPathRule> out;
  out.reserve(next.size());
  for (const FastPathRule& n : next) {
    FastPathRule both;
    both.rule = n.rule;
    for (const FastPathRule& old : installed) {
      if (old.rule != n.rule) continue;
      both.whole_rule = n.whole_rule && old.whole_rule;
      for (size_t w = 0; w < BucketSet::kWords; ++w) {
        both.buckets.set_word(w, n.buckets.word(w) & old.buckets.word(w));
      }
      break;
    }
    out.push_back(std::move(both));
  }
  return out;
}

std::vector<FastPathRule> FastPathDifference(const std::vector<FastPathRule>& from,
                                             const std::vector<FastPathRule>& keep) {
  std::vector<FastPathRule> out;
  for (const FastPathRule& f : from) {
    FastPathRule left = f;
    for (const FastPathRule& k : keep) {
      if (k.rule != f.rule) continue;
      left.whole_rule = f.whole_rule && !k.whole_rule;
      for (size_t w = 0; w < BucketSet::kWords; ++w) {
        left.buckets.set_word(w, f.buckets.word(w) & ~k.buckets.word(w));
      }
      break;
    }
    if (!left.Empty()) out.push_back(std::move(left));
  }
  return out;
}

bool RulesAreDisjoint(const std::vector<RuleMap>& rules) {
  auto protocols_meet = [](Protocol a, Protocol b) {
    return a == Protocol::kBoth || b == Protocol::kBoth || a == b;
  };
  for (size_t x = 0; x < rules.size(); ++x) {
    const PortRule& later = rules[x].rule;
    if (later.vip.has_value()) continue;
    for (size_t y = 0; y < x; ++y) {
      const PortRule& earlier = rules[y].rule;
      if (!earlier.vip.has_value()) continue;
      if (protocols_meet(earlier.protocol, later.protocol) &&
          earlier.first_port <= later.last_port && later.first_port <= earlier.last_port) {
        return false;
      }
    }
  }
  return true;
}

void AttachFastPath(MapSnapshot& snapshot, const std::vector<FastPathRule>& fast) {
  for (size_t i = 0; i < snapshot.rules.size(); ++i) {
    RuleMap& map = snapshot.rules[i];
    map.kernel = nullptr;
    map.kernel_whole_rule = false;
    if (i >= fast.size() || fast[i].rule != map.rule || fast[i].Empty()) continue;
    map.kernel_whole_rule = fast[i].whole_rule;
    if (!fast[i].buckets.Empty()) map.kernel = std::make_shared<const BucketSet>(fast[i].buckets);
  }
}

}  // namespace nlb
