// DecideTracked: the per-packet decision with connection tracking. Decide() first; then, for TCP
// under a multiple-host rule, the descriptor table and the snapshot's moving buckets refine it so
// that a bucket can change owner without breaking a connection (docs/connection-tracking.md):
//
//   bucket owned, not moving      accept; a SYN (without ACK) adds the flow, other packets of a
//                                 tracked flow refresh it (FIN/RST: closing)
//   bucket owned, moving          accept a SYN (adding the flow) and packets of tracked flows;
//                                 drop the rest (kMovingOthersConnection): they belong to the
//                                 connections another host still serves. While the bucket is
//                                 also pending (just gained, the old owner may not have let go)
//                                 drop SYNs too: the client retransmits them
//   another's bucket, moving      accept packets of tracked flows (kTrackedConnection); a SYN
//                                 forgets the flow (a new connection is the owner's)
//   another's bucket, not moving  drop, as Decide
//
// UDP, other protocols, fragments and single-host rules follow the owner at once (Decide alone).
// Same contract as Decide: no allocation, no exception, no lock; the table's single writer (the
// data path thread) calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

#include "common/decision.h"
#include "common/descriptor_table.h"
#include "common/map_snapshot.h"
#include "common/packet.h"

namespace nlb {

Decision DecideTracked(std::span<const uint8_t> frame, const MapSnapshot& snapshot,
                       DescriptorTable& table, std::chrono::steady_clock::time_point now,
                       ParsedPacket* packet);

// The same refinement for a decision already made by Decide on *packet (for callers that batch).
Decision TrackDecision(const Decision& decided, const MapSnapshot& snapshot,
                       const ParsedPacket& packet, DescriptorTable& table,
                       std::chrono::steady_clock::time_point now);

}  // namespace nlb
