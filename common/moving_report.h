// MovingReport: the buckets a host still serves tracked connections in after they moved away,
// when they are too many for the heartbeat's 128-entry moving list (a join or a drainstop moves
// thousands). Version-1 wire format "NLBM" (docs/protocol.md "Moving reports"), pinned by golden
// bytes in tests/common/moving_report_test.cc. Pure functions, safe from any thread.
//
// A report is one BucketSet per rule, cut into parts of at most kMaxMovingReportSize bytes, each
// an authenticated datagram with the heartbeat's framing and HMAC. Inside a part, each rule's
// bitmap travels as sections of 1024 buckets: (rule, group, 16-bit mask of the non-zero 64-bit
// words, those words). Empty groups cost nothing, a full rule costs 2112 bytes (two parts).
// The parts of one report share the sequence of the heartbeat they go with, so a receiver
// assembles them, and applies a report only when it is newer than the last one it applied.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bucket_set.h"
#include "common/heartbeat.h"
#include "common/status.h"

namespace nlb {

inline constexpr uint8_t kMovingReportVersion = 1;
inline constexpr size_t kMaxMovingReportSize = 1452;  // one UDP/IPv6 datagram at MTU 1500
inline constexpr size_t kMaxMovingReportParts = 255;

struct MovingReport {
  std::string cluster_name;
  uint16_t host_id = 0;
  uint64_t boot_id = 0;
  uint64_t sequence = 0;  // the sequence of the heartbeat this report goes with
  Digest view_digest{};   // the sender's view; its map is that view's when map_current
  bool map_current = false;
  std::vector<BucketSet> rules;  // canonical rule order; size = the cluster's rule count
  friend bool operator==(const MovingReport&, const MovingReport&) = default;
};

// One decoded datagram: the report's header and the buckets this part carries.
struct MovingReportPart {
  MovingReport report;
  uint8_t part_index = 0;  // < part_count
  uint8_t part_count = 1;
};

// Cuts and signs a report (at least one part, even when empty). kInvalidArgument names a field
// out of range, or says the report needs more than kMaxMovingReportParts parts.
// REQUIRES: !key.empty()
Result<std::vector<std::vector<uint8_t>>> EncodeMovingReport(const MovingReport& report,
                                                             std::span<const uint8_t> key);

// True when the datagram claims to be a moving report (magic "NLBM"); says nothing of validity.
bool IsMovingReport(std::span<const uint8_t> bytes);

// Parses and authenticates one part. Error codes as DecodeHeartbeat: kMalformed,
// kAuthentication, kInvalidArgument (another cluster). REQUIRES: !key.empty()
Result<MovingReportPart> DecodeMovingReportPart(std::span<const uint8_t> bytes,
                                                std::span<const uint8_t> key,
                                                std::string_view expected_cluster_name);

}  // namespace nlb
