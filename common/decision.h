// The per-packet decision: (frame, snapshot) -> accept or drop, with a reason.
//
// This is the data path's whole logic. It allocates nothing, throws nothing and takes no lock;
// callers load the snapshot once per batch (SnapshotHolder::Load) and pass it by reference.
// DecisionCounters has a single writer (the data path thread that owns it) and relaxed readers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/map_snapshot.h"
#include "common/packet.h"
#include "common/rule_numbering.h"

namespace nlb {

enum class Verdict : uint8_t { kAccept = 0, kDrop, kNeighbour };

enum class DecisionReason : uint8_t {
  kOwnedBucket = 0,   // accept: multiple-host rule, this host owns the bucket
  kSingleHostOwner,   // accept: single-host rule, this host has the best priority
  kDefaultHost,       // accept: no rule covers it and this host is the default host
  kNeighbourRequest,  // neighbour: ARP request or IPv6 neighbour solicitation for a VIP
  kOtherHostsBucket,  // drop: another host owns the bucket
  kOtherSingleHost,   // drop: single-host rule owned by another host
  kOtherDefaultHost,  // drop: uncovered traffic, another host is the default host
  kRuleDisabled,      // drop: the rule is disabled
  kNotServing,        // drop: this host is stopped or not converged
  kNotForVip,         // drop: destination is not a VIP (or not IP at all)
  kMalformed,         // drop: ParseFrame failed (see Decision::parse)
  // Connection tracking (DecideTracked, docs/connection-tracking.md):
  kTrackedConnection,  // accept: a moving bucket another host owns, a connection this host tracks
  kMovingOthersConnection,  // drop: a moving bucket this host owns, not a new or tracked connection
  // drop: an 802.1Q/802.1ad-tagged frame to a VIP, or a tagged neighbour request for one. The
  // cluster's VLAN is its interface's own (a tagged VLAN is served on its sub-interface, where
  // frames arrive untagged), so a tag here means another VLAN (docs/packet-parsing.md).
  kForeignVlan,
  kCount,
};

std::string_view VerdictName(Verdict v);
std::string_view DecisionReasonName(DecisionReason r);  // "owned_bucket", ...

struct Decision {
  Verdict verdict = Verdict::kDrop;
  DecisionReason reason = DecisionReason::kMalformed;
  ParseVerdict parse = ParseVerdict::kOk;
  int16_t rule_index = -1;  // index into MapSnapshot::rules, -1 when no rule matched
  uint32_t bucket = 0;      // meaningful for multiple-host rules
};

// Decides one frame. *packet receives the parse (the data path needs l3_offset/l3_length).
// Order: parse (malformed -> kMalformed; unsupported ethertype or ARP kind -> kNotForVip, both
// with Decision::parse set); ARP request or neighbour solicitation for a VIP -> kNeighbour
// (whatever the serving state), or kForeignVlan when tagged; not a VIP -> kNotForVip; tagged ->
// kForeignVlan; !serving -> kNotServing; then the rule.
// Fragments: every piece of a datagram is matched by (VIP, protocol) alone, to the covering rule
// with the lowest first port (VIP-specific rules before "all" rules), and keyed on addresses only
// (affinity none is keyed as single; single and network as usual), so all pieces land on one
// host. Host id kNoHost never matches, and a rule without bucket owners accepts nothing.
// See docs/packet-parsing.md.
Decision Decide(std::span<const uint8_t> frame, const MapSnapshot& snapshot, ParsedPacket* packet);

// The rule every piece of a fragmented datagram to (destination, ip_protocol) is matched by:
// among the rules covering that VIP and protocol at any port, VIP-specific before "all", then the
// lowest first port; -1 if none. Decide uses it per fragment; the BPF data plane's loader
// computes it per (VIP, protocol) ahead of time (agent/bpf_map_writer.h).
int FragmentRuleIndex(const MapSnapshot& snapshot, const IpAddress& destination,
                      uint8_t ip_protocol);

// Per-reason and per-parse-verdict packet and byte counts. One writer; readers use Read*().
class DecisionCounters {
 public:
  // Per-rule counts: by the rule's index in the snapshot the packet was decided by (the data
  // path renumbers them with the rules: RenumberRules); rules at kMaxCountedRules and beyond are
  // counted by reason only.
  static constexpr size_t kMaxCountedRules = 128;
  void Count(const Decision& d, uint32_t bytes) {
    Bump(packets_[static_cast<size_t>(d.reason)], 1);
    Bump(bytes_[static_cast<size_t>(d.reason)], bytes);
    if (d.reason == DecisionReason::kMalformed) Bump(malformed_[static_cast<size_t>(d.parse)], 1);
    if (d.rule_index >= 0 && static_cast<size_t>(d.rule_index) < kMaxCountedRules) {
      const size_t slot = static_cast<size_t>(d.rule_index) * 2 + (d.verdict == Verdict::kAccept);
      Bump(rule_packets_[slot], 1);
      Bump(rule_bytes_[slot], bytes);
    }
  }
  // The rules were renumbered (a reload): rule r's figures move to index old_to_new[r], a rule
  // gone (kRuleGone) loses them and a new rule starts at 0, so each rule keeps its own figures
  // whatever its index. Writer thread only (between packets); a reader meanwhile may see one
  // rule's figure missing or twice, for that one read.
  void RenumberRules(const RuleRemap& old_to_new);
  uint64_t ReadRulePackets(size_t rule, bool accepted) const {
    return rule < kMaxCountedRules
               ? rule_packets_[rule * 2 + accepted].load(std::memory_order_relaxed)
               : 0;
  }
  uint64_t ReadRuleBytes(size_t rule, bool accepted) const {
    return rule < kMaxCountedRules
               ? rule_bytes_[rule * 2 + accepted].load(std::memory_order_relaxed)
               : 0;
  }
  uint64_t ReadPackets(DecisionReason r) const {
    return packets_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }
  uint64_t ReadBytes(DecisionReason r) const {
    return bytes_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }
  uint64_t ReadMalformed(ParseVerdict v) const {
    return malformed_[static_cast<size_t>(v)].load(std::memory_order_relaxed);
  }

 private:
  // Single writer: a relaxed load+store is enough and avoids a locked instruction per packet.
  static void Bump(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DecisionReason::kCount)> packets_{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DecisionReason::kCount)> bytes_{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ParseVerdict::kCount)> malformed_{};
  std::array<std::atomic<uint64_t>, kMaxCountedRules * 2> rule_packets_{};  // [rule][accepted]
  std::array<std::atomic<uint64_t>, kMaxCountedRules * 2> rule_bytes_{};
};

}  // namespace nlb
