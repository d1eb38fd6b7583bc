// Bucket assignment: which member owns each of the kBucketCount buckets of a multiple-host rule.
//
// Part of the cluster protocol (docs/hashing.md): a pure function of (members, weights, rule
// seed), so every host computes the same map from the same view, with no history. Properties it
// is measured against (tests/common/bucket_assignment_test.cc):
//   * weighted: each member owns floor or ceil of its quota kBucketCount * weight / sum(weights);
//   * deterministic: independent of the order members are given in;
//   * low movement: when one member leaves, (almost) only its buckets move; when one joins, it
//     takes (almost) only its share from the others.
// The exact definition (score, quotas, matching) is hash/assignment version 1 in docs/hashing.md.
// Thread-safe (pure).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/bpf/flow_key_layout.h"

namespace nlb {

inline constexpr uint16_t kNoHost = 0;  // host ids are 1..256

struct MemberWeight {
  uint16_t host_id = 0;  // 1..256
  uint32_t weight = 0;   // 0..100; 0 owns no bucket
};

// Bumped whenever AssignBuckets, AssignmentScore, BucketQuotas or RuleSeed change any output:
// hosts of different versions would disagree about owners, so the cluster digest carries it
// (config/config_digest.h) and a host of another version is kept out as one with other rules.
//   1: rule i was assigned with seed i (its position in the canonical rule order).
//   2: a rule's seed is RuleSeed(its name), so a reload that renumbers rules keeps its owners.
inline constexpr uint32_t kAssignmentVersion = 2;

// The initval of RuleSeed's jhash: ASCII "RULE" (common/bpf/flow_key_layout.h, shared with BPF).
inline constexpr uint32_t kRuleSeedInitval = NLB_RULE_SEED_INITVAL;
static_assert(kRuleSeedInitval == 0x52554c45, "hash/assignment version 2");

// The assignment seed of a multiple-host rule: jhash(name bytes, name length, kRuleSeedInitval)
// (docs/hashing.md section 4). Keyed by the rule's identity, not its position, so adding or
// removing another rule changes nothing for it.
uint32_t RuleSeed(std::string_view rule_name);

// How much bucket `bucket` wants host `host_id` under a rule (higher wins). Exposed so that tests
// and other implementations can check the definition in docs/hashing.md directly.
uint64_t AssignmentScore(uint32_t rule_seed, uint32_t bucket, uint16_t host_id);

// Each member's bucket count: floor or ceil of kBucketCount * weight / sum(weights), by largest
// remainder with ties to the lower host id; 0 for weight 0. Same order as members; the counts
// sum to kBucketCount, or to 0 when no weight is positive.
// REQUIRES: member host ids unique.
std::vector<uint32_t> BucketQuotas(std::span<const MemberWeight> members);

// Fills owners (one entry per bucket) with the owning host id, or kNoHost for every bucket when no
// member has a positive weight.
// REQUIRES: owners.size() == kBucketCount; member host ids unique and in 1..256.
void AssignBuckets(std::span<const MemberWeight> members, uint32_t rule_seed,
                   std::span<uint16_t> owners);

// Convenience: returns a new vector of kBucketCount owners.
std::vector<uint16_t> AssignBuckets(std::span<const MemberWeight> members, uint32_t rule_seed);

}  // namespace nlb
