// Kernel fast path: the part of this host's accepted traffic that the kernel can deliver by
// itself, with an nftables rule that computes the same hash and bucket as Decide() (docs/
// data-path.md, "Kernel fast path"). The capture still sees and decides every packet (the
// counters and the connection table depend on it); for a packet the kernel delivers, the data
// path only skips its own TUN write.
//
// What the kernel can reproduce bit for bit, per port rule:
//   * multiple-host rules with affinity none (jhash of source address . source port) or single
//     (jhash of source address), for buckets this host owns that are neither moving nor pending
//     (those need the connection table, which only the data path has);
//   * single-host rules whose owner is this host;
// and only unfragmented TCP/UDP packets (fragments are keyed on addresses only, docs/design.md).
// Affinity network (the hash of a masked address, which nftables 1.0 cannot express inside
// jhash), disabled rules, fragments, ICMP, traffic outside every rule and neighbour requests stay
// with the capture. Pure functions; thread-compatible values.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/bucket_set.h"
#include "common/decision.h"
#include "common/map_snapshot.h"
#include "common/packet.h"
#include "common/port_rule.h"

namespace nlb {

// One port rule as the kernel delivers it on this host.
struct FastPathRule {
  PortRule rule;
  bool whole_rule = false;  // single-host rule owned by this host: every covered packet
  BucketSet buckets;        // multiple-host rule: the buckets the kernel delivers

  bool Empty() const { return !whole_rule && buckets.Empty(); }
  friend bool operator==(const FastPathRule&, const FastPathRule&) = default;
};

// True when a kernel rule can decide this rule's unfragmented packets exactly as Decide() does.
bool FastPathEligible(const PortRule& rule);

// What the kernel should deliver under snapshot: one entry per snapshot rule, in its order
// (an entry is Empty() when the kernel delivers nothing of that rule). All empty when the
// snapshot is not serving.
std::vector<FastPathRule> ComputeFastPath(const MapSnapshot& snapshot);

// The part of next that installed also delivers: per rule of next, the intersection with the
// installed entry of an equal PortRule (none: empty). While the kernel switches from installed
// to next, the data path must skip its own delivery only for these.
std::vector<FastPathRule> IntersectFastPath(const std::vector<FastPathRule>& next,
                                            const std::vector<FastPathRule>& installed);

// What `from` delivers and `keep` does not: per entry of from, minus the entry of keep with an
// equal PortRule. Empty entries are left out.
std::vector<FastPathRule> FastPathDifference(const std::vector<FastPathRule>& from,
                                             const std::vector<FastPathRule>& keep);

// True when no rule can catch packets of an earlier rule: no "all" rule whose protocols and
// ports meet those of an earlier VIP-specific rule. Then a kernel line that matches one rule's
// traffic catches that rule's packets only, wherever it sits.
bool RulesAreDisjoint(const std::vector<RuleMap>& rules);

// Sets RuleMap::kernel of every rule of snapshot from fast (aligned with snapshot.rules by
// index and checked by PortRule equality; a mismatch leaves the rule to the data path).
void AttachFastPath(MapSnapshot& snapshot, const std::vector<FastPathRule>& fast);

// Per packet: true when the kernel delivered this accepted packet itself, so the data path must
// not deliver it again. decision is Decide()'s (or DecideTracked()'s) for packet under map's
// snapshot; map is snapshot.rules[decision.rule_index].
inline bool FastPathDelivers(const RuleMap& map, const ParsedPacket& packet,
                             const Decision& decision) {
  if (packet.is_fragment) return false;
  switch (decision.reason) {
    case DecisionReason::kOwnedBucket:
      return map.kernel != nullptr && map.kernel->Contains(decision.bucket);
    case DecisionReason::kSingleHostOwner:
      return map.kernel_whole_rule;
    default:
      return false;
  }
}

}  // namespace nlb
