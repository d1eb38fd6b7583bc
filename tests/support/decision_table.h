// The decision tables: one three-host cluster (its snapshot as each host sees it) and named
// cases {frame, rule, who accepts, expected verdict and reason}, shared by the reference test of
// Decide() (tests/common/decision_table_test.cc) and the BPF data plane's agreement test
// (tests/agent/bpf_agreement_test.cc), so that the kernel is held to exactly the same table.
// Single-threaded test helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/decision.h"
#include "common/map_snapshot.h"
#include "tests/support/packet_builder.h"

namespace nlb::test::decision_table {

inline const IpAddress kVip = Ip("198.18.0.100");
inline const IpAddress kVip2 = Ip("198.18.0.101");
inline const IpAddress kVip6 = Ip("2001:2::100");
inline const IpAddress kNotVip = Ip("198.18.0.7");
inline const IpAddress kClient = Ip("198.18.1.10");
inline const IpAddress kClient6 = Ip("2001:2:0:1::10");

inline constexpr uint16_t kHosts = 3;
inline constexpr uint16_t kDefaultHost = 1;
inline constexpr uint16_t kSingleOwner = 2;
inline constexpr uint16_t kAllRuleOwner = 3;

// Rule indexes in Snapshot() (VIP-specific rules first, as the snapshot promises).
enum RuleIndex : int16_t {
  kWebNone = 0,       // kVip 80/tcp, multiple, affinity none
  kTlsSingle,         // kVip 443/tcp, multiple, affinity single
  kRangeNetwork,      // kVip 1000-1999/both, multiple, affinity network
  kMailSingleHost,    // kVip 25/tcp, single host (owner kSingleOwner)
  kTelnetDisabled,    // kVip 23/tcp, disabled by mode
  kAltOff,            // kVip 8080/tcp, multiple but disabled at run time
  kV6Network,         // kVip6 443/tcp, multiple, network /48
  kAllWebSingleHost,  // all 80/tcp, single host (owner kAllRuleOwner)
  kAllDnsNone,        // all 53/udp, multiple, affinity none
};

// The cluster's snapshot as host local_host_id sees it; serving, every rule with owners.
MapSnapshot Snapshot(uint16_t local_host_id);

// A rule named "rule<first>" as Snapshot() builds them: a multiple-host one gets owners 1..hosts
// in stripes of 7 buckets (shifted by first), so that neighbouring buckets differ; other modes
// get no owners (a single-host rule's single_owner is the caller's).
RuleMap StripedRule(std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol protocol,
                    FilteringMode mode, Affinity affinity, uint16_t hosts = kHosts);

struct Outcome {
  Verdict verdict;
  DecisionReason reason;
};
inline constexpr Outcome kOwned{Verdict::kAccept, DecisionReason::kOwnedBucket};
inline constexpr Outcome kOthersBucket{Verdict::kDrop, DecisionReason::kOtherHostsBucket};

// Who should accept: a fixed host, nobody (kNoHost), or the owner of the bucket of `key`.
struct BucketKey {
  IpAddress source;
  bool has_port = false;
  uint16_t port = 0;
  Affinity affinity = Affinity::kSingle;
  uint8_t ipv6_prefix = kDefaultIpv6NetworkPrefix;
};

struct Case {
  std::string description;
  std::vector<uint8_t> frame;
  int16_t rule_index;
  uint16_t owner;  // gets on_owner; the rest get on_others. Ignored when key is set.
  Outcome on_owner;
  Outcome on_others;
  std::optional<BucketKey> key = std::nullopt;
  ParseVerdict parse = ParseVerdict::kOk;
};

// A TCP (ACK, 20 bytes of payload) or UDP frame between two addresses of one family.
std::vector<uint8_t> Tcp(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                         uint16_t dst_port);
std::vector<uint8_t> Udp(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                         uint16_t dst_port);

inline constexpr Outcome kAcceptDefault{Verdict::kAccept, DecisionReason::kDefaultHost};
inline constexpr Outcome kDropOtherDefault{Verdict::kDrop, DecisionReason::kOtherDefaultHost};
inline constexpr Outcome kAcceptSingle{Verdict::kAccept, DecisionReason::kSingleHostOwner};
inline constexpr Outcome kDropOtherSingle{Verdict::kDrop, DecisionReason::kOtherSingleHost};
inline constexpr Outcome kDropDisabled{Verdict::kDrop, DecisionReason::kRuleDisabled};
inline constexpr Outcome kDropNotForVip{Verdict::kDrop, DecisionReason::kNotForVip};
inline constexpr Outcome kDropMalformed{Verdict::kDrop, DecisionReason::kMalformed};
inline constexpr Outcome kNeighbour{Verdict::kNeighbour, DecisionReason::kNeighbourRequest};
inline constexpr Outcome kDropForeignVlan{Verdict::kDrop, DecisionReason::kForeignVlan};

// DecideTest.Table's cases: rules, modes, precedence, default host, neighbours, VLAN tags, not
// ours, malformed.
std::vector<Case> TableCases();
// The tagged cases, within TableCases() (tests/support/decision_table_vlan.cc).
std::vector<Case> VlanCases();
// DecideTest.FragmentTable's cases: every piece matched by (VIP, protocol), keyed on addresses.
std::vector<Case> FragmentCases();

}  // namespace nlb::test::decision_table
