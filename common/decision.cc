#include "common/decision.h"

#include "common/bpf/flow_key_layout.h"
#include "common/flow_hash.h"

namespace nlb {

// The BPF program reports its decisions in the shared header's numbers
// (common/bpf/flow_key_layout.h); they must be these enums' values.
static_assert(static_cast<int>(Verdict::kAccept) == NLB_VERDICT_ACCEPT);
static_assert(static_cast<int>(Verdict::kDrop) == NLB_VERDICT_DROP);
static_assert(static_cast<int>(Verdict::kNeighbour) == NLB_VERDICT_NEIGHBOUR);
static_assert(static_cast<int>(DecisionReason::kOwnedBucket) == NLB_REASON_OWNED_BUCKET);
static_assert(static_cast<int>(DecisionReason::kSingleHostOwner) == NLB_REASON_SINGLE_HOST_OWNER);
static_assert(static_cast<int>(DecisionReason::kDefaultHost) == NLB_REASON_DEFAULT_HOST);
static_assert(static_cast<int>(DecisionReason::kNeighbourRequest) == NLB_REASON_NEIGHBOUR_REQUEST);
static_assert(static_cast<int>(DecisionReason::kOtherHostsBucket) == NLB_REASON_OTHER_HOSTS_BUCKET);
static_assert(static_cast<int>(DecisionReason::kOtherSingleHost) == NLB_REASON_OTHER_SINGLE_HOST);
static_assert(static_cast<int>(DecisionReason::kOtherDefaultHost) == NLB_REASON_OTHER_DEFAULT_HOST);
static_assert(static_cast<int>(DecisionReason::kRuleDisabled) == NLB_REASON_RULE_DISABLED);
static_assert(static_cast<int>(DecisionReason::kNotServing) == NLB_REASON_NOT_SERVING);
static_assert(static_cast<int>(DecisionReason::kNotForVip) == NLB_REASON_NOT_FOR_VIP);
static_assert(static_cast<int>(DecisionReason::kMalformed) == NLB_REASON_MALFORMED);
static_assert(static_cast<int>(DecisionReason::kTrackedConnection) ==
              NLB_REASON_TRACKED_CONNECTION);
static_assert(static_cast<int>(DecisionReason::kMovingOthersConnection) ==
              NLB_REASON_MOVING_OTHERS_CONNECTION);
static_assert(static_cast<int>(DecisionReason::kForeignVlan) == NLB_REASON_FOREIGN_VLAN);
static_assert(static_cast<int>(DecisionReason::kCount) == NLB_REASON_COUNT);
static_assert(NLB_REASON_COUNT <= NLB_COUNTER_PARSE_BASE);
static_assert(static_cast<int>(ParseVerdict::kOk) == NLB_PARSE_OK);
static_assert(static_cast<int>(ParseVerdict::kTruncatedVlan) == NLB_PARSE_TRUNCATED_VLAN);
static_assert(static_cast<int>(ParseVerdict::kUnsupportedArp) == NLB_PARSE_UNSUPPORTED_ARP);
static_assert(static_cast<int>(ParseVerdict::kBadIpv4TotalLength) ==
              NLB_PARSE_BAD_IPV4_TOTAL_LENGTH);
static_assert(static_cast<int>(ParseVerdict::kBadIpv6ExtensionHeader) ==
              NLB_PARSE_BAD_IPV6_EXTENSION_HEADER);
static_assert(static_cast<int>(ParseVerdict::kTruncatedIcmp) == NLB_PARSE_TRUNCATED_ICMP);
static_assert(static_cast<int>(ParseVerdict::kCount) == NLB_PARSE_COUNT);

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kAccept:
      return "accept";
    case Verdict::kDrop:
      return "drop";
    case Verdict::kNeighbour:
      return "neighbour";
  }
  return "unknown";
}

std::string_view DecisionReasonName(DecisionReason r) {
  switch (r) {
    case DecisionReason::kOwnedBucket:
      return "owned_bucket";
    case DecisionReason::kSingleHostOwner:
      return "single_host_owner";
    case DecisionReason::kDefaultHost:
      return "default_host";
    case DecisionReason::kNeighbourRequest:
      return "neighbour_request";
    case DecisionReason::kOtherHostsBucket:
      return "other_hosts_bucket";
    case DecisionReason::kOtherSingleHost:
      return "other_single_host";
    case DecisionReason::kOtherDefaultHost:
      return "other_default_host";
    case DecisionReason::kRuleDisabled:
      return "rule_disabled";
    case DecisionReason::kNotServing:
      return "not_serving";
    case DecisionReason::kNotForVip:
      return "not_for_vip";
    case DecisionReason::kMalformed:
      return "malformed";
    case DecisionReason::kTrackedConnection:
      return "tracked_connection";
    case DecisionReason::kMovingOthersConnection:
      return "moving_others_connection";
    case DecisionReason::kForeignVlan:
      return "foreign_vlan";
    case DecisionReason::kCount:
      break;
  }
  return "unknown";
}

namespace {

constexpr uint16_t kArpRequest = 1;

Decision Make(Verdict verdict, DecisionReason reason) {
  Decision d;
  d.verdict = verdict;
  d.reason = reason;
  return d;
}

bool IsVip(const MapSnapshot& snapshot, const IpAddress& address) {
  for (const IpAddress& vip : snapshot.vips) {
    if (vip == address) return true;
  }
  return false;
}

// kNoHost never matches: a snapshot built before this host has an id must not accept.
bool IsLocal(const MapSnapshot& snapshot, uint16_t owner) {
  return owner != kNoHost && owner == snapshot.local_host_id;
}

int FirstCoveringRule(const MapSnapshot& snapshot, const ParsedPacket& packet) {
  const auto& rules = snapshot.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].rule.Covers(packet.dst, packet.ip_protocol, packet.dst_port)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace

// The ports are in the first piece only, so every piece picks its rule without them. A
// VIP-specific rule beats an "all" rule; among equals, the lowest first port wins. Not relying on
// the snapshot's order here keeps the choice identical on every host whatever that order.
int FragmentRuleIndex(const MapSnapshot& snapshot, const IpAddress& destination,
                      uint8_t ip_protocol) {
  const auto& rules = snapshot.rules;
  int best = -1;
  bool best_specific = false;
  for (size_t i = 0; i < rules.size(); ++i) {
    const PortRule& rule = rules[i].rule;
    // Covers at the rule's own first port asks "VIP and protocol match" without the port.
    if (!rule.Covers(destination, ip_protocol, rule.first_port)) continue;
    const bool specific = rule.vip.has_value();
    if (best < 0 || (specific && !best_specific) ||
        (specific == best_specific && rule.first_port < rules[best].rule.first_port)) {
      best = static_cast<int>(i);
      best_specific = specific;
    }
  }
  return best;
}

Decision Decide(std::span<const uint8_t> frame, const MapSnapshot& snapshot, ParsedPacket* packet) {
  const ParseVerdict parse = ParseFrame(frame, packet);
  if (parse != ParseVerdict::kOk) {
    // Well-formed traffic of another kind (LLDP, ARP for another protocol) is not an error.
    const bool foreign =
        parse == ParseVerdict::kUnsupportedEthertype || parse == ParseVerdict::kUnsupportedArp;
    Decision d =
        Make(Verdict::kDrop, foreign ? DecisionReason::kNotForVip : DecisionReason::kMalformed);
    d.parse = parse;
    return d;
  }

  // A tagged frame for a VIP belongs to another VLAN: the cluster's is its interface's own. It is
  // dropped before it can be answered or accepted (with a tag, the capture back end once wrote
  // such SYNs to the TUN device and the stack answered them: issue 11). Tagged frames that are
  // not for a VIP go on as not_for_vip, so the host's other VLAN interfaces keep working.
  const DecisionReason for_vip =
      packet->has_vlan ? DecisionReason::kForeignVlan : DecisionReason::kNeighbourRequest;
  const Verdict for_vip_verdict = packet->has_vlan ? Verdict::kDrop : Verdict::kNeighbour;

  // Neighbour requests are answered whatever the serving state: in every cluster MAC mode all
  // hosts give the same answer, and the agent decides whether a stopped host should stay silent.
  if (packet->l3 == L3Kind::kArp) {
    if (packet->arp_operation == kArpRequest && IsVip(snapshot, packet->dst)) {
      return Make(for_vip_verdict, for_vip);
    }
    return Make(Verdict::kDrop, DecisionReason::kNotForVip);
  }
  if (packet->has_nd_target && IsVip(snapshot, packet->nd_target)) {
    return Make(for_vip_verdict, for_vip);
  }

  if (!IsVip(snapshot, packet->dst)) return Make(Verdict::kDrop, DecisionReason::kNotForVip);
  if (packet->has_vlan) return Make(Verdict::kDrop, DecisionReason::kForeignVlan);
  if (!snapshot.serving) return Make(Verdict::kDrop, DecisionReason::kNotServing);

  const int index = packet->is_fragment
                        ? FragmentRuleIndex(snapshot, packet->dst, packet->ip_protocol)
                        : FirstCoveringRule(snapshot, *packet);
  if (index < 0) {
    Decision d = IsLocal(snapshot, snapshot.default_host_id)
                     ? Make(Verdict::kAccept, DecisionReason::kDefaultHost)
                     : Make(Verdict::kDrop, DecisionReason::kOtherDefaultHost);
    return d;
  }

  const RuleMap& map = snapshot.rules[static_cast<size_t>(index)];
  Decision d;
  d.rule_index = static_cast<int16_t>(index);
  if (!map.enabled || map.rule.mode == FilteringMode::kDisabled) {
    d.verdict = Verdict::kDrop;
    d.reason = DecisionReason::kRuleDisabled;
    return d;
  }
  if (map.rule.mode == FilteringMode::kSingleHost) {
    const bool mine = IsLocal(snapshot, map.single_owner);
    d.verdict = mine ? Verdict::kAccept : Verdict::kDrop;
    d.reason = mine ? DecisionReason::kSingleHostOwner : DecisionReason::kOtherSingleHost;
    return d;
  }

  // Fragments key on addresses only (the ports are in one piece): kNone falls back to the
  // source address; kSingle and kNetwork already ignore ports, so a client's fragmented and
  // whole datagrams still meet on one host.
  Affinity affinity = map.rule.affinity;
  if (packet->is_fragment && affinity == Affinity::kNone) affinity = Affinity::kSingle;
  const uint32_t hash = FlowHash(packet->src, packet->has_ports, packet->src_port, affinity,
                                 map.rule.ipv6_network_prefix);
  d.bucket = BucketOfHash(hash);
  // A map without owners (not yet assigned) gives the bucket to nobody.
  const bool mine =
      d.bucket < map.bucket_owner.size() && IsLocal(snapshot, map.bucket_owner[d.bucket]);
  d.verdict = mine ? Verdict::kAccept : Verdict::kDrop;
  d.reason = mine ? DecisionReason::kOwnedBucket : DecisionReason::kOtherHostsBucket;
  return d;
}

void DecisionCounters::RenumberRules(const RuleRemap& old_to_new) {
  static_assert(kMaxCountedRules <= std::tuple_size_v<RuleRemap>);
  // Copied first: a rule may move to an index another rule is leaving. On the stack (4 KiB):
  // the data path thread allocates nothing.
  std::array<uint64_t, kMaxCountedRules * 2> packets{};
  std::array<uint64_t, kMaxCountedRules * 2> bytes{};
  for (size_t r = 0; r < kMaxCountedRules; ++r) {
    const size_t to = old_to_new[r];
    if (to >= kMaxCountedRules) continue;  // gone
    for (size_t accepted = 0; accepted < 2; ++accepted) {
      packets[to * 2 + accepted] = rule_packets_[r * 2 + accepted].load(std::memory_order_relaxed);
      bytes[to * 2 + accepted] = rule_bytes_[r * 2 + accepted].load(std::memory_order_relaxed);
    }
  }
  for (size_t i = 0; i < kMaxCountedRules * 2; ++i) {
    rule_packets_[i].store(packets[i], std::memory_order_relaxed);
    rule_bytes_[i].store(bytes[i], std::memory_order_relaxed);
  }
}

}  // namespace nlb
