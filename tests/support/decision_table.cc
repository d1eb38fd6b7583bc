#include "tests/support/decision_table.h"

#include "common/flow_hash.h"
#include "tests/support/port_rules.h"

namespace nlb::test::decision_table {

RuleMap StripedRule(std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol protocol,
                    FilteringMode mode, Affinity affinity, uint16_t hosts) {
  RuleMap map;
  map.rule = MakeRule(std::move(vip), first, last, protocol, mode, affinity,
                      "rule" + std::to_string(first));
  if (mode == FilteringMode::kMultipleHost) {
    // Owners in stripes, so that neighbouring buckets belong to different hosts.
    map.bucket_owner.resize(kBucketCount);
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      map.bucket_owner[b] = static_cast<uint16_t>((b / 7 + first) % hosts + 1);
    }
  }
  return map;
}

MapSnapshot Snapshot(uint16_t local_host_id) {
  MapSnapshot s;
  s.local_host_id = local_host_id;
  s.default_host_id = kDefaultHost;
  s.serving = true;
  s.vips = {kVip, kVip2, kVip6};
  using enum FilteringMode;
  s.rules.push_back(StripedRule(kVip, 80, 80, Protocol::kTcp, kMultipleHost, Affinity::kNone));
  s.rules.push_back(StripedRule(kVip, 443, 443, Protocol::kTcp, kMultipleHost, Affinity::kSingle));
  s.rules.push_back(
      StripedRule(kVip, 1000, 1999, Protocol::kBoth, kMultipleHost, Affinity::kNetwork));
  s.rules.push_back(StripedRule(kVip, 25, 25, Protocol::kTcp, kSingleHost, Affinity::kSingle));
  s.rules.back().single_owner = kSingleOwner;
  s.rules.push_back(StripedRule(kVip, 23, 23, Protocol::kTcp, kDisabled, Affinity::kSingle));
  s.rules.push_back(
      StripedRule(kVip, 8080, 8080, Protocol::kTcp, kMultipleHost, Affinity::kSingle));
  s.rules.back().enabled = false;
  s.rules.push_back(
      StripedRule(kVip6, 443, 443, Protocol::kTcp, kMultipleHost, Affinity::kNetwork));
  s.rules.back().rule.ipv6_network_prefix = 48;
  s.rules.push_back(
      StripedRule(std::nullopt, 80, 80, Protocol::kTcp, kSingleHost, Affinity::kSingle));
  s.rules.back().single_owner = kAllRuleOwner;
  s.rules.push_back(
      StripedRule(std::nullopt, 53, 53, Protocol::kUdp, kMultipleHost, Affinity::kNone));
  return s;
}

std::vector<uint8_t> Tcp(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                         uint16_t dst_port) {
  PacketBuilder b;
  if (src.is_v4()) {
    b.Ipv4(src, dst);
  } else {
    b.Ipv6(src, dst);
  }
  return b.Tcp(src_port, dst_port, kTcpAck).Payload(20).Build();
}

std::vector<uint8_t> Udp(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                         uint16_t dst_port) {
  return PacketBuilder().Ipv4(src, dst).Udp(src_port, dst_port).Payload(20).Build();
}

std::vector<Case> TableCases() {
  const IpAddress solicited = SolicitedNodeMulticast(kVip6);
  std::vector<Case> cases = {
      // Multiple-host rules: the bucket of the affinity's key decides.
      {"affinity none keys on address and port",
       Tcp(kClient, kVip, 40000, 80),
       kWebNone,
       0,
       {},
       {},
       BucketKey{kClient, true, 40000, Affinity::kNone}},
      {"affinity single keys on the address",
       Tcp(kClient, kVip, 40000, 443),
       kTlsSingle,
       0,
       {},
       {},
       BucketKey{kClient, true, 40000, Affinity::kSingle}},
      {"affinity network keys on the /24",
       Udp(kClient, kVip, 5000, 1500),
       kRangeNetwork,
       0,
       {},
       {},
       BucketKey{Ip("198.18.1.0"), false, 0, Affinity::kSingle}},
      {"IPv6 affinity network keys on the rule's prefix",
       Tcp(kClient6, kVip6, 1234, 443),
       kV6Network,
       0,
       {},
       {},
       BucketKey{kClient6, false, 0, Affinity::kNetwork, 48}},
      {"IPv6 network key equals the masked address",
       Tcp(kClient6, kVip6, 1234, 443),
       kV6Network,
       0,
       {},
       {},
       BucketKey{Ip("2001:2::"), false, 0, Affinity::kSingle}},
      {"all rule, multiple host, other VIP",
       Udp(kClient, kVip2, 3333, 53),
       kAllDnsNone,
       0,
       {},
       {},
       BucketKey{kClient, true, 3333, Affinity::kNone}},
      // Other filtering modes.
      {"single-host rule: the best-priority host", Tcp(kClient, kVip, 1, 25), kMailSingleHost,
       kSingleOwner, kAcceptSingle, kDropOtherSingle},
      {"disabled rule drops everywhere",
       Tcp(kClient, kVip, 1, 23),
       kTelnetDisabled,
       kNoHost,
       {},
       kDropDisabled},
      {"rule disabled at run time drops everywhere",
       Tcp(kClient, kVip, 1, 8080),
       kAltOff,
       kNoHost,
       {},
       kDropDisabled},
      // Precedence.
      {"VIP-specific rule beats the all rule",
       Tcp(kClient, kVip, 40000, 80),
       kWebNone,
       0,
       {},
       {},
       BucketKey{kClient, true, 40000, Affinity::kNone}},
      {"all rule for a VIP without its own rule", Tcp(kClient, kVip2, 40000, 80), kAllWebSingleHost,
       kAllRuleOwner, kAcceptSingle, kDropOtherSingle},
      // Traffic no rule covers goes to the default host.
      {"uncovered TCP port", Tcp(kClient, kVip, 1, 9999), -1, kDefaultHost, kAcceptDefault,
       kDropOtherDefault},
      {"uncovered UDP port", Udp(kClient, kVip, 1, 443), -1, kDefaultHost, kAcceptDefault,
       kDropOtherDefault},
      {"ICMP echo", PacketBuilder().Ipv4(kClient, kVip).IcmpEcho().Build(), -1, kDefaultHost,
       kAcceptDefault, kDropOtherDefault},
      {"ICMPv6 echo", PacketBuilder().Ipv6(kClient6, kVip6).Icmpv6Echo().Build(), -1, kDefaultHost,
       kAcceptDefault, kDropOtherDefault},
      {"GRE", PacketBuilder().Ipv4(kClient, kVip).Protocol(47).Payload(8).Build(), -1, kDefaultHost,
       kAcceptDefault, kDropOtherDefault},
      // Neighbour discovery.
      {"ARP request for a VIP",
       PacketBuilder().ArpRequest(kClient, kVip).Build(),
       -1,
       kNoHost,
       {},
       kNeighbour},
      {"ARP request for another address",
       PacketBuilder().ArpRequest(kClient, kNotVip).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"ARP reply about a VIP is not ours to answer",
       PacketBuilder().ArpReply(kClient, kVip).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"neighbour solicitation for a VIP",
       PacketBuilder().Ipv6(kClient6, solicited).NeighbourSolicitation(kVip6).Build(),
       -1,
       kNoHost,
       {},
       kNeighbour},
      {"neighbour solicitation for another address",
       PacketBuilder().Ipv6(kClient6, solicited).NeighbourSolicitation(Ip("2001:2::7")).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      // Not ours.
      {"TCP to an address that is not a VIP",
       Tcp(kClient, kNotVip, 1, 80),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"IPv6 to an address that is not a VIP",
       Tcp(kClient6, Ip("2001:2::7"), 1, 443),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"LLDP is not for a VIP",
       PacketBuilder().RawEthertype(0x88cc).Payload(40).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip,
       std::nullopt,
       ParseVerdict::kUnsupportedEthertype},
      // Malformed.
      {"truncated TCP",
       Truncated(Tcp(kClient, kVip, 1, 80), 14 + 20 + 10),
       -1,
       kNoHost,
       {},
       kDropMalformed,
       std::nullopt,
       ParseVerdict::kBadIpv4TotalLength},
      {"TCP data offset 2",
       WithByte(Tcp(kClient, kVip, 1, 80), 14 + 20 + 12, 0x20),
       -1,
       kNoHost,
       {},
       kDropMalformed,
       std::nullopt,
       ParseVerdict::kBadTcpHeaderLength},
      {"runt frame",
       std::vector<uint8_t>(10, 0xff),
       -1,
       kNoHost,
       {},
       kDropMalformed,
       std::nullopt,
       ParseVerdict::kTruncatedEthernet},
  };
  for (Case& c : VlanCases()) cases.push_back(std::move(c));
  return cases;
}

std::vector<Case> FragmentCases() {
  const auto first = [](const IpAddress& src, const IpAddress& dst, uint16_t dst_port) {
    PacketBuilder b;
    if (src.is_v4()) {
      b.Ipv4(src, dst);
    } else {
      b.Ipv6(src, dst);
    }
    return b.Fragment(0, true).Udp(40000, dst_port).Payload(64).Build();
  };
  const auto later = [](const IpAddress& src, const IpAddress& dst, uint8_t protocol, bool last) {
    PacketBuilder b;
    if (src.is_v4()) {
      b.Ipv4(src, dst);
    } else {
      b.Ipv6(src, dst);
    }
    return b.Fragment(last ? 1488 : 72, !last).Protocol(protocol).Payload(64).Build();
  };
  // The all/53 rule has affinity none, but the ports are in the first piece only.
  const BucketKey dns_key{kClient, false, 0, Affinity::kSingle};
  const BucketKey range_key{Ip("198.18.1.0"), false, 0, Affinity::kSingle};
  const std::vector<Case> cases = {
      {"UDP first fragment to the all/53 rule",
       first(kClient, kVip2, 53),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP middle fragment to the all/53 rule",
       later(kClient, kVip2, kIpProtoUdp, false),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP last fragment to the all/53 rule",
       later(kClient, kVip2, kIpProtoUdp, true),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP first fragment to a port outside the rule still takes the (VIP, udp) rule",
       first(kClient, kVip2, 9999),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP fragment to kVip: the only specific udp rule, network affinity kept",
       later(kClient, kVip, kIpProtoUdp, false),
       kRangeNetwork,
       0,
       {},
       {},
       range_key},
      {"TCP fragment to kVip: lowest first port among specific rules is the disabled 23",
       later(kClient, kVip, kIpProtoTcp, false),
       kTelnetDisabled,
       kNoHost,
       {},
       kDropDisabled},
      {"TCP fragment to kVip2: the all/80 single-host rule",
       later(kClient, kVip2, kIpProtoTcp, true), kAllWebSingleHost, kAllRuleOwner, kAcceptSingle,
       kDropOtherSingle},
      {"IPv6 TCP middle fragment: network /48",
       later(kClient6, kVip6, kIpProtoTcp, false),
       kV6Network,
       0,
       {},
       {},
       BucketKey{kClient6, false, 0, Affinity::kNetwork, 48}},
      {"ICMP fragment: no rule, default host", later(kClient, kVip, kIpProtoIcmp, true), -1,
       kDefaultHost, kAcceptDefault, kDropOtherDefault},
  };
  return cases;
}

}  // namespace nlb::test::decision_table
