#include "common/bucket_assignment.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "common/flow_hash.h"

namespace nlb {
namespace {

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ull;

// splitmix64's output function (Steele, Lea, Flood 2014, Stafford's "mix13" constants): a
// bijection on 64 bits with full avalanche, integer-only so every host computes the same bits.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The per-bucket half of the score, hoisted out of the per-host loop.
inline uint64_t BucketKey(uint32_t rule_seed, uint32_t bucket) {
  return Mix64((static_cast<uint64_t>(rule_seed) << 32) | bucket);
}

inline uint64_t ScoreOf(uint64_t bucket_key, uint16_t host_id) {
  return Mix64(bucket_key + static_cast<uint64_t>(host_id) * kGoldenGamma);
}

// A (bucket, host) pair as the bucket sees it. `host` indexes the candidates, which are sorted by
// host id, so a lower index is a lower host id.
struct Choice {
  uint64_t score;
  uint32_t host;
};

// The bucket's order: higher score first, then lower host id.
inline bool BucketPrefers(const Choice& a, const Choice& b) {
  return a.score > b.score || (a.score == b.score && a.host < b.host);
}

// A (bucket, host) pair as the host sees it.
struct Held {
  uint64_t score;
  uint32_t bucket;
};

// The host's order: higher score first, then lower bucket. With BucketPrefers this is the single
// order on pairs (score desc, host id asc, bucket asc) that docs/hashing.md defines.
inline bool HostPrefers(const Held& a, const Held& b) {
  return a.score > b.score || (a.score == b.score && a.bucket < b.bucket);
}

struct Candidate {
  uint16_t host_id;
  uint32_t capacity;
};

// Bucket-proposing deferred acceptance (Gale-Shapley with capacities). Both sides rank pairs by
// the same global order, so the stable matching is unique and equals the greedy definition in
// docs/hashing.md whatever order proposals are processed in.
//
// A bucket's preference list is never materialised (256 hosts x 16384 buckets would be 4M
// scores): each bucket keeps its next kCacheDepth choices, refilled by one scan over the hosts
// for the choices strictly after the last one it proposed to. Most buckets settle on their first
// or second choice, so most buckets scan the hosts once.
class DeferredAcceptance {
 public:
  DeferredAcceptance(std::span<const Candidate> candidates, uint32_t rule_seed)
      : candidates_(candidates),
        bucket_key_(kBucketCount),
        cache_(kBucketCount),
        cached_(kBucketCount, 0),
        next_(kBucketCount, 0),
        held_(candidates.size()) {
    for (uint32_t b = 0; b < kBucketCount; ++b) bucket_key_[b] = BucketKey(rule_seed, b);
    for (size_t h = 0; h < candidates.size(); ++h) held_[h].reserve(candidates[h].capacity);
  }

  // REQUIRES: the capacities sum to kBucketCount.
  void Run(std::span<uint16_t> owners) {
    std::vector<uint32_t> free_buckets(kBucketCount);
    // Reverse so buckets propose in ascending order; any order gives the same result.
    for (uint32_t b = 0; b < kBucketCount; ++b) free_buckets[b] = kBucketCount - 1 - b;
    while (!free_buckets.empty()) {
      const uint32_t bucket = free_buckets.back();
      free_buckets.pop_back();
      const Choice choice = NextChoice(bucket);
      std::vector<Held>& held = held_[choice.host];
      const Held offer{choice.score, bucket};
      // held is a heap whose front is the host's least preferred bucket.
      if (held.size() < candidates_[choice.host].capacity) {
        held.push_back(offer);
        std::push_heap(held.begin(), held.end(), HostPrefers);
      } else if (HostPrefers(offer, held.front())) {
        std::pop_heap(held.begin(), held.end(), HostPrefers);
        free_buckets.push_back(held.back().bucket);
        held.back() = offer;
        std::push_heap(held.begin(), held.end(), HostPrefers);
      } else {
        free_buckets.push_back(bucket);
      }
    }
    for (size_t h = 0; h < held_.size(); ++h) {
      for (const Held& pair : held_[h]) owners[pair.bucket] = candidates_[h].host_id;
    }
  }

 private:
  static constexpr uint32_t kCacheDepth = 4;

  // The bucket's best host after the one it last proposed to. Cannot run out: a bucket rejected
  // by every host would mean every host is full without it, yet capacities sum to kBucketCount.
  Choice NextChoice(uint32_t bucket) {
    if (next_[bucket] == cached_[bucket]) Refill(bucket);
    return cache_[bucket][next_[bucket]++];
  }

  // Fills the cache with the best kCacheDepth choices strictly after the last one proposed to.
  void Refill(uint32_t bucket) {
    std::array<Choice, kCacheDepth>& cache = cache_[bucket];
    const bool has_last = cached_[bucket] > 0;
    const Choice last = has_last ? cache[cached_[bucket] - 1] : Choice{};
    uint32_t count = 0;
    const uint64_t key = bucket_key_[bucket];
    for (uint32_t h = 0; h < candidates_.size(); ++h) {
      const Choice c{ScoreOf(key, candidates_[h].host_id), h};
      if (has_last && !BucketPrefers(last, c)) continue;
      if (count == kCacheDepth && !BucketPrefers(c, cache[count - 1])) continue;
      // Insertion into the small sorted cache, dropping its worst when full.
      uint32_t i = count < kCacheDepth ? count++ : count - 1;
      while (i > 0 && BucketPrefers(c, cache[i - 1])) {
        cache[i] = cache[i - 1];
        --i;
      }
      cache[i] = c;
    }
    cached_[bucket] = count;
    next_[bucket] = 0;
  }

  std::span<const Candidate> candidates_;
  std::vector<uint64_t> bucket_key_;
  std::vector<std::array<Choice, kCacheDepth>> cache_;
  std::vector<uint8_t> cached_;  // valid entries in cache_[b]
  std::vector<uint8_t> next_;    // next entry of cache_[b] to propose to
  std::vector<std::vector<Held>> held_;
};

}  // namespace

uint32_t RuleSeed(std::string_view rule_name) {
  return Jhash(reinterpret_cast<const uint8_t*>(rule_name.data()),
               static_cast<uint32_t>(rule_name.size()), kRuleSeedInitval);
}

uint64_t AssignmentScore(uint32_t rule_seed, uint32_t bucket, uint16_t host_id) {
  return ScoreOf(BucketKey(rule_seed, bucket), host_id);
}

std::vector<uint32_t> BucketQuotas(std::span<const MemberWeight> members) {
  std::vector<uint32_t> quotas(members.size(), 0);
  uint64_t total_weight = 0;
  for (const MemberWeight& m : members) total_weight += m.weight;
  if (total_weight == 0) return quotas;

  std::vector<uint64_t> remainder(members.size(), 0);
  uint32_t assigned = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    const uint64_t scaled = static_cast<uint64_t>(kBucketCount) * members[i].weight;
    quotas[i] = static_cast<uint32_t>(scaled / total_weight);
    remainder[i] = scaled % total_weight;
    assigned += quotas[i];
  }
  // Every remainder shares the denominator total_weight, so comparing numerators compares the
  // fractions exactly. Fewer than members.size() buckets are left over.
  std::vector<size_t> order(members.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (remainder[a] != remainder[b]) return remainder[a] > remainder[b];
    return members[a].host_id < members[b].host_id;
  });
  for (uint32_t k = 0; assigned + k < kBucketCount; ++k) ++quotas[order[k]];
  return quotas;
}

void AssignBuckets(std::span<const MemberWeight> members, uint32_t rule_seed,
                   std::span<uint16_t> owners) {
  std::fill(owners.begin(), owners.end(), kNoHost);
  const std::vector<uint32_t> quotas = BucketQuotas(members);
  std::vector<Candidate> candidates;
  candidates.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    // A host with no quota would reject every proposal; leaving it out changes nothing.
    if (quotas[i] > 0) candidates.push_back({members[i].host_id, quotas[i]});
  }
  if (candidates.empty()) return;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.host_id < b.host_id; });
  DeferredAcceptance(candidates, rule_seed).Run(owners);
}

std::vector<uint16_t> AssignBuckets(std::span<const MemberWeight> members, uint32_t rule_seed) {
  std::vector<uint16_t> owners(kBucketCount, kNoHost);
  AssignBuckets(members, rule_seed, owners);
  return owners;
}

}  // namespace nlb
