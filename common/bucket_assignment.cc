// TEMPORARY (not committed): trivial stand-in until the real assignment lands.
#include "common/bucket_assignment.h"

#include <algorithm>

#include "common/flow_hash.h"

namespace nlb {

void AssignBuckets(std::span<const MemberWeight> members, uint32_t rule_seed,
                   std::span<uint16_t> owners) {
  std::vector<MemberWeight> m(members.begin(), members.end());
  std::sort(m.begin(), m.end(), [](auto& a, auto& b) { return a.host_id < b.host_id; });
  uint64_t total = 0;
  for (auto& x : m) total += x.weight;
  if (total == 0) { std::fill(owners.begin(), owners.end(), kNoHost); return; }
  size_t b = 0;
  uint64_t acc = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    acc += m[i].weight;
    size_t end = (i + 1 == m.size()) ? owners.size() : static_cast<size_t>(acc * owners.size() / total);
    for (; b < end; ++b) owners[(b + rule_seed) % owners.size()] = m[i].host_id;
  }
}

std::vector<uint16_t> AssignBuckets(std::span<const MemberWeight> members, uint32_t rule_seed) {
  std::vector<uint16_t> owners(kBucketCount, kNoHost);
  AssignBuckets(members, rule_seed, owners);
  return owners;
}

}  // namespace nlb
