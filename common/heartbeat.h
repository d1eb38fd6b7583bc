// Heartbeat: the datagram every agent broadcasts once per period (twice while converging), and
// its version-2 wire format (docs/protocol.md, pinned by golden bytes in
// tests/common/heartbeat_test.cc). Encoding and decoding are pure functions of their arguments,
// safe from any thread.
//
// The format is length-checked and authenticated: HMAC-SHA256 with the cluster key over every
// byte before the 32-byte tag, verified in constant time before any field past the fixed header
// is read. The sender's view travels as a 256-bit member bitmap plus a SHA-256 digest of the
// view's map inputs (ids, boot ids, roles, rule parameters), not as a list of {id, boot id}: a
// 256-host list would need 2.5 kB, the bitmap and digest 64 bytes, and agreement only needs to
// know whether two views are equal. Every count is bounded so that the largest message,
// kMaxHeartbeatSize, fits one UDP datagram on a 1500-byte link, IPv4 or IPv6.
//
// Version 2 added an extension area at the end: typed, length-prefixed entries that a reader
// skips when it does not know their type, so that later additions need no new version. Version 1
// readers refuse version 2 (and version 2 readers version 1): hosts of the two versions do not
// hear each other, so every host of a cluster must be upgraded together (docs/protocol.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_set.h"
#include "common/ip_address.h"
#include "common/port_rule.h"
#include "common/status.h"

namespace nlb {

inline constexpr uint8_t kHeartbeatVersion = 2;
inline constexpr uint16_t kDefaultHeartbeatPort = 2504;
inline constexpr size_t kMaxClusterNameLength = 63;
inline constexpr size_t kMaxHeartbeatRules = 128;
inline constexpr size_t kMaxMovingBuckets = 128;
// Moving count value meaning "my moving buckets are too many for this list: they travel in the
// moving report datagrams sent with this heartbeat" (common/moving_report.h).
inline constexpr uint8_t kMovingInReports = 255;
inline constexpr size_t kMaxKeptOutReports = 16;
inline constexpr size_t kHeartbeatTagSize = 32;
// Extension entries a heartbeat may carry, known or not (each: type u8, length u8, value).
inline constexpr size_t kMaxHeartbeatExtensions = 8;
// Extension type 1: one RuleHealth byte per rule, in the order of rule_params.
inline constexpr uint8_t kExtensionRuleHealth = 1;

// SHA-256 of something both ends must agree on: the cluster configuration, or a view.
using Digest = std::array<uint8_t, 32>;

// The sender's state. kConverging and kConverged are an active host's; the others are operator
// states that hold whatever the convergence status.
enum class HostState : uint8_t {
  kConverging = 1,
  kConverged = 2,
  kDraining = 3,
  kStopped = 4,
  kSuspended = 5,
};
std::string_view HostStateName(HostState state);  // "converging", "converged", ...

enum class KeptOutReason : uint8_t {
  kMismatchedRules = 1,  // its configuration digest is not the established one
  kDuplicateId = 2,      // another live host holds its host id
};
std::string_view KeptOutReasonName(KeptOutReason reason);  // "mismatched rules", "duplicate id"

// What the sender's health check of a rule makes it do with the rule (common/health_check.h):
// announced so that every host can show which host drains which rule because of its check, and
// so that a failing host knows whether a healthy one still serves the rule (fail open).
enum class RuleHealth : uint8_t {
  kUnchecked = 0,  // the rule has no health check
  kServe = 1,      // its check passes
  kDrain = 2,      // its check fails and a healthy member serves the rule: weight 0
  kFailOpen = 3,   // its check fails and no healthy member serves the rule: kept serving
};
std::string_view RuleHealthName(RuleHealth health);  // "none", "serve", "drain", "fail-open"

// A bucket the sender still serves tracked connections in after it moved away
// (docs/connection-tracking.md).
struct MovingBucket {
  uint16_t rule_index = 0;  // in the canonical rule order; < rule count
  uint16_t bucket = 0;      // < kBucketCount
  friend bool operator==(const MovingBucket&, const MovingBucket&) = default;
};

// A host the sender keeps out of its view, so that the host itself learns why.
struct KeptOutReport {
  uint16_t host_id = 0;
  uint64_t boot_id = 0;
  KeptOutReason reason = KeptOutReason::kMismatchedRules;
  friend bool operator==(const KeptOutReport&, const KeptOutReport&) = default;
};

struct Heartbeat {
  std::string cluster_name;     // 1..63 bytes; must equal the receiver's
  uint16_t host_id = 0;         // 1..256
  IpAddress dedicated_address;  // v4 or v6
  uint64_t boot_id = 0;         // random per process start
  uint64_t sequence = 0;        // increases with every heartbeat of one boot
  HostState state = HostState::kConverging;
  bool holds_map = false;  // the sender serves a converged map (flags bit 0)
  // Flags bit 1: the sender's map is the one of view_digest, so `moving` (or its reports) says
  // which buckets it still serves under that very map.
  bool map_current = false;
  HostSet members;                          // the sender's current view
  HostSet heard;                            // hosts the sender heard itself within tolerance
  Digest view_digest{};                     // ViewDigest() of the sender's current view
  Digest config_digest{};                   // the cluster-wide configuration (rules) digest
  std::vector<HostRuleParams> rule_params;  // canonical rule order; weight 0..255, priority 0..255
  std::vector<MovingBucket> moving;         // empty when moving_in_reports
  bool moving_in_reports = false;           // moving count kMovingInReports on the wire
  std::vector<KeptOutReport> kept_out;
  // Extension 1, present on the wire when any entry is not kUnchecked. Empty, or one entry per
  // rule_params entry; a receiver takes missing entries as kUnchecked.
  std::vector<RuleHealth> rule_health;

  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

// Fixed header (magic, version, flags, length, state, name length) and the largest message.
inline constexpr size_t kHeartbeatHeaderSize = 10;
inline constexpr size_t kMaxHeartbeatSize =
    kHeartbeatHeaderSize + kMaxClusterNameLength + 2 + 1 + 16 + 8 + 8 + 32 + 32 + 32 + 32 + 1 +
    2 * kMaxHeartbeatRules + 1 + 4 * kMaxMovingBuckets + 1 + 11 * kMaxKeptOutReports + 1 + 2 +
    kMaxHeartbeatRules + kHeartbeatTagSize;
// What a reader accepts: a later version's extensions may make a heartbeat longer than this
// version's largest, up to one UDP/IPv6 datagram at MTU 1500.
inline constexpr size_t kMaxHeartbeatDatagram = 1452;
static_assert(kMaxHeartbeatSize <= kMaxHeartbeatDatagram,
              "a heartbeat must fit one UDP/IPv6 datagram at MTU 1500");

// Serialises and signs. Errors (kInvalidArgument) name the field out of range. A rule_health
// with only kUnchecked entries is sent as no extension (and decodes as an empty vector).
// REQUIRES: !key.empty()
Result<std::vector<uint8_t>> EncodeHeartbeat(const Heartbeat& heartbeat,
                                             std::span<const uint8_t> key);

// Parses and authenticates one datagram. Error codes, which callers count separately:
//   kMalformed        bad magic, unsupported version, length mismatch, truncated or invalid field
//                     (a known extension's included; an unknown extension is skipped)
//   kAuthentication   the HMAC does not match (wrong key or altered bytes)
//   kInvalidArgument  authentic, but for another cluster name
// REQUIRES: !key.empty()
Result<Heartbeat> DecodeHeartbeat(std::span<const uint8_t> bytes, std::span<const uint8_t> key,
                                  std::string_view expected_cluster_name);

}  // namespace nlb
