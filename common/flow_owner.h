// FlowOwner: which host takes a flow, by the data path's own decision (common/decision.h Decide)
// over the map a host holds. Answers `nlbctl owner CLIENT[:PORT] [VIP:PORT] [tcp|udp]`
// (docs/control.md): the agent builds the flow's first packet (a TCP SYN or a UDP datagram) and
// decides it as the data path would, only as if serving and as no host in particular, so that the
// decision names the rule and bucket and the map names the owner. Pure; any thread (the snapshot
// is immutable).
//
// A bucket that is moving (docs/connection-tracking.md) has its new owner shown with moving set:
// new connections go to that owner once the move settles, and connections the previous owner
// tracks stay there until they end.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/decision.h"
#include "common/ip_address.h"
#include "common/map_snapshot.h"
#include "common/status.h"

namespace nlb {

struct OwnerQuery {
  IpAddress client;
  std::optional<uint16_t> client_port;  // nullopt: 0 (affinity none is then a guess; see below)
  std::optional<IpAddress> vip;         // nullopt with port: every rule at its own first port
  std::optional<uint16_t> port;
  // kIpProtoTcp or kIpProtoUdp; nullopt: TCP, unless only a UDP rule covers the flow.
  std::optional<uint8_t> ip_protocol;
};

// args: the words after "owner": CLIENT[:PORT] (IPv6 as [ADDR]:PORT or bare ADDR), then
// optionally VIP:PORT ([VIP]:PORT for IPv6) and optionally tcp or udp, in that order.
// kInvalidArgument quoting the word that is wrong and the form expected.
Result<OwnerQuery> ParseOwnerQuery(std::span<const std::string> args);

// The request words that ParseOwnerQuery reads back: "owner CLIENT[:PORT] [VIP:PORT] [tcp|udp]".
std::vector<std::string> OwnerRequestWords(const OwnerQuery& query);

struct FlowOwner {
  std::string rule;  // "" when no rule covers the flow (the default host takes it)
  IpAddress vip;
  uint16_t port = 0;
  uint8_t ip_protocol = kIpProtoTcp;
  std::optional<uint32_t> bucket;  // multiple-host rules only
  uint16_t owner = kNoHost;        // kNoHost: nobody takes it (disabled rule, no owner yet)
  DecisionReason reason = DecisionReason::kNotForVip;  // as the owner's data path counts it
  bool moving = false;
  bool port_matters = false;  // affinity none: another client port may land elsewhere
};

// With query.vip: the one flow (kNotFound when the VIP is not one of the snapshot's). Without:
// one flow per rule and VIP it covers in the client's address family, to the rule's first port
// (a rule for protocol "both" is asked with query.ip_protocol, TCP when not given). kNotFound when
// the cluster has no VIP of the client's family.
Result<std::vector<FlowOwner>> FindFlowOwners(const MapSnapshot& snapshot, const OwnerQuery& query);

// The frame Decide sees for the flow's first packet: Ethernet, IPv4 or IPv6, then a TCP SYN or a
// UDP header. REQUIRES: client and vip of one family.
std::vector<uint8_t> FirstPacketOf(const IpAddress& client, uint16_t client_port,
                                   const IpAddress& vip, uint16_t port, uint8_t ip_protocol);

}  // namespace nlb
