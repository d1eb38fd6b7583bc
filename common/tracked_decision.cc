#include "common/tracked_decision.h"

namespace nlb {

Decision TrackDecision(const Decision& decided, const MapSnapshot& snapshot,
                       const ParsedPacket& packet, DescriptorTable& table,
                       std::chrono::steady_clock::time_point now) {
  const bool mine = decided.reason == DecisionReason::kOwnedBucket;
  if (!mine && decided.reason != DecisionReason::kOtherHostsBucket) return decided;
  if (packet.ip_protocol != kIpProtoTcp || packet.is_fragment || !packet.has_ports) return decided;
  const RuleMap& map = snapshot.rules[static_cast<size_t>(decided.rule_index)];
  const bool moving = map.moving != nullptr && map.moving->Contains(decided.bucket);
  if (!mine && !moving) return decided;

  const FlowKey key{packet.src, packet.dst, packet.src_port, packet.dst_port,
                    static_cast<uint8_t>(decided.rule_index)};
  const bool syn = (packet.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn;
  Decision d = decided;
  if (mine) {
    if (syn && map.pending != nullptr && map.pending->Contains(decided.bucket)) {
      (void)table.Remove(key);  // the old owner may be taking this one
      d.verdict = Verdict::kDrop;
      d.reason = DecisionReason::kMovingOthersConnection;
      return d;
    }
    if (syn) {
      (void)table.Open(key, decided.bucket, now);  // kFull is counted by the table
      return d;
    }
    if (table.Touch(key, packet.tcp_flags, now) || !moving) return d;
    d.verdict = Verdict::kDrop;
    d.reason = DecisionReason::kMovingOthersConnection;
    return d;
  }
  if (syn) {
    (void)table.Remove(key);
    return d;
  }
  if (table.Touch(key, packet.tcp_flags, now)) {
    d.verdict = Verdict::kAccept;
    d.reason = DecisionReason::kTrackedConnection;
  }
  return d;
}

Decision DecideTracked(std::span<const uint8_t> frame, const MapSnapshot& snapshot,
                       DescriptorTable& table, std::chrono::steady_clock::time_point now,
                       ParsedPacket* packet) {
  return TrackDecision(Decide(frame, snapshot, packet), snapshot, *packet, table, now);
}

}  // namespace nlb
