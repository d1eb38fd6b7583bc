#include "common/packet.h"

#include <cstddef>
#include <cstring>

namespace nlb {

std::string_view ParseVerdictName(ParseVerdict verdict) {
  switch (verdict) {
    case ParseVerdict::kOk:
      return "ok";
    case ParseVerdict::kTruncatedEthernet:
      return "truncated_ethernet";
    case ParseVerdict::kTruncatedVlan:
      return "truncated_vlan";
    case ParseVerdict::kUnsupportedEthertype:
      return "unsupported_ethertype";
    case ParseVerdict::kTruncatedArp:
      return "truncated_arp";
    case ParseVerdict::kUnsupportedArp:
      return "unsupported_arp";
    case ParseVerdict::kTruncatedIpv4:
      return "truncated_ipv4";
    case ParseVerdict::kBadIpv4Version:
      return "bad_ipv4_version";
    case ParseVerdict::kBadIpv4HeaderLength:
      return "bad_ipv4_header_length";
    case ParseVerdict::kBadIpv4TotalLength:
      return "bad_ipv4_total_length";
    case ParseVerdict::kTruncatedIpv6:
      return "truncated_ipv6";
    case ParseVerdict::kBadIpv6Version:
      return "bad_ipv6_version";
    case ParseVerdict::kBadIpv6PayloadLength:
      return "bad_ipv6_payload_length";
    case ParseVerdict::kBadIpv6ExtensionHeader:
      return "bad_ipv6_extension_header";
    case ParseVerdict::kTruncatedTcp:
      return "truncated_tcp";
    case ParseVerdict::kBadTcpHeaderLength:
      return "bad_tcp_header_length";
    case ParseVerdict::kTruncatedUdp:
      return "truncated_udp";
    case ParseVerdict::kTruncatedIcmp:
      return "truncated_icmp";
    case ParseVerdict::kCount:
      break;
  }
  return "unknown";
}

namespace {

constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeArp = 0x0806;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr uint16_t kEthertypeVlan = 0x8100;
constexpr uint16_t kEthertypeQinQ = 0x88a8;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr int kMaxVlanTags = 2;
constexpr size_t kArpFixedHeader = 8;
constexpr size_t kArpEthernetIpv4 = 28;
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kTcpMinHeader = 20;
constexpr size_t kUdpHeader = 8;
constexpr size_t kIcmpMinHeader = 4;
constexpr size_t kNeighbourSolicitation = 24;  // type..reserved (8) + target (16)
constexpr size_t kIpv6FragmentHeader = 8;

constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6DestinationOptions = 60;
// Real traffic carries at most a handful; a long chain is an attempt to make every host walk it.
constexpr int kMaxIpv6ExtensionHeaders = 8;

inline uint16_t LoadBe16(const uint8_t* p) {
  return static_cast<uint16_t>((static_cast<uint16_t>(p[0]) << 8) | p[1]);
}

// Inline twins of IpAddress::V4/V6: those live in another translation unit, and a call per
// address would be a measurable part of the per-packet budget.
inline void SetV4(IpAddress* address, const uint8_t* p) {
  address->family = IpAddress::Family::kV4;
  std::memcpy(address->bytes.data(), p, 4);
}

inline void SetV6(IpAddress* address, const uint8_t* p) {
  address->family = IpAddress::Family::kV6;
  std::memcpy(address->bytes.data(), p, 16);
}

// The upper-layer header at p (length bytes available, already bounded by the IP length).
ParseVerdict ParseTransport(const uint8_t* p, size_t length, bool ipv6, ParsedPacket* out) {
  switch (out->ip_protocol) {
    case kIpProtoTcp: {
      if (length < kTcpMinHeader) return ParseVerdict::kTruncatedTcp;
      const size_t header = static_cast<size_t>(p[12] >> 4) * 4;
      if (header < kTcpMinHeader || header > length) return ParseVerdict::kBadTcpHeaderLength;
      out->src_port = LoadBe16(p);
      out->dst_port = LoadBe16(p + 2);
      out->tcp_flags = p[13];
      out->has_ports = true;
      return ParseVerdict::kOk;
    }
    case kIpProtoUdp:
      if (length < kUdpHeader) return ParseVerdict::kTruncatedUdp;
      out->src_port = LoadBe16(p);
      out->dst_port = LoadBe16(p + 2);
      out->has_ports = true;
      return ParseVerdict::kOk;
    case kIpProtoIcmp:
    case kIpProtoIcmpv6:
      // ICMP belongs to IPv4 and ICMPv6 to IPv6; the other number is just an unknown protocol.
      if ((out->ip_protocol == kIpProtoIcmpv6) != ipv6) return ParseVerdict::kOk;
      if (length < kIcmpMinHeader) return ParseVerdict::kTruncatedIcmp;
      out->icmp_type = p[0];
      out->icmp_code = p[1];
      out->has_icmp = true;
      if (ipv6 && p[0] == kIcmpv6NeighbourSolicitation && length >= kNeighbourSolicitation) {
        SetV6(&out->nd_target, p + 8);
        out->has_nd_target = true;
      }
      return ParseVerdict::kOk;
    default:
      return ParseVerdict::kOk;
  }
}

ParseVerdict ParseArp(const uint8_t* p, size_t length, ParsedPacket* out) {
  if (length < kArpFixedHeader) return ParseVerdict::kTruncatedArp;
  const uint16_t hardware = LoadBe16(p);
  const uint16_t protocol = LoadBe16(p + 2);
  if (hardware != 1 || protocol != kEthertypeIpv4 || p[4] != 6 || p[5] != 4) {
    return ParseVerdict::kUnsupportedArp;
  }
  if (length < kArpEthernetIpv4) return ParseVerdict::kTruncatedArp;
  out->arp_operation = LoadBe16(p + 6);
  SetV4(&out->src, p + 14);
  SetV4(&out->dst, p + 24);
  out->l3_length = kArpEthernetIpv4;
  return ParseVerdict::kOk;
}

ParseVerdict ParseIpv4(const uint8_t* p, size_t length, ParsedPacket* out) {
  if (length < kIpv4MinHeader) return ParseVerdict::kTruncatedIpv4;
  if ((p[0] >> 4) != 4) return ParseVerdict::kBadIpv4Version;
  const size_t header = static_cast<size_t>(p[0] & 0x0f) * 4;
  if (header < kIpv4MinHeader) return ParseVerdict::kBadIpv4HeaderLength;
  if (header > length) return ParseVerdict::kTruncatedIpv4;
  const size_t total = LoadBe16(p + 2);
  if (total < header || total > length) return ParseVerdict::kBadIpv4TotalLength;

  out->l3_length = static_cast<uint32_t>(total);
  out->ip_protocol = p[9];
  SetV4(&out->src, p + 12);
  SetV4(&out->dst, p + 16);
  const uint16_t fragment = LoadBe16(p + 6);
  const bool more_fragments = (fragment & 0x2000) != 0;
  const uint16_t offset = fragment & 0x1fff;
  out->is_fragment = more_fragments || offset != 0;
  out->is_first_fragment = offset == 0;
  if (offset != 0) return ParseVerdict::kOk;  // no upper-layer header in this piece
  return ParseTransport(p + header, total - header, /*ipv6=*/false, out);
}

ParseVerdict ParseIpv6(const uint8_t* p, size_t length, ParsedPacket* out) {
  if (length < kIpv6Header) return ParseVerdict::kTruncatedIpv6;
  if ((p[0] >> 4) != 6) return ParseVerdict::kBadIpv6Version;
  const size_t end = kIpv6Header + LoadBe16(p + 4);
  if (end > length) return ParseVerdict::kBadIpv6PayloadLength;

  out->l3_length = static_cast<uint32_t>(end);
  SetV6(&out->src, p + 8);
  SetV6(&out->dst, p + 24);
  uint8_t next = p[6];
  size_t at = kIpv6Header;
  for (int count = 0;; ++count) {
    const bool generic =
        next == kIpv6HopByHop || next == kIpv6Routing || next == kIpv6DestinationOptions;
    if (!generic && next != kIpv6Fragment) break;
    if (count == kMaxIpv6ExtensionHeaders) return ParseVerdict::kBadIpv6ExtensionHeader;
    // Every extension header is at least 8 bytes, and the first two say next and length.
    if (end - at < 8) return ParseVerdict::kBadIpv6ExtensionHeader;
    if (generic) {
      const size_t size = (static_cast<size_t>(p[at + 1]) + 1) * 8;
      if (size > end - at) return ParseVerdict::kBadIpv6ExtensionHeader;
      next = p[at];
      at += size;
      continue;
    }
    const uint16_t offset = LoadBe16(p + at + 2) >> 3;
    out->is_fragment = true;
    out->is_first_fragment = offset == 0;
    out->ip_protocol = p[at];
    // What follows belongs to the fragmentable part, which only the first piece carries: stop
    // here so that every piece reports the same protocol.
    if (offset != 0) return ParseVerdict::kOk;
    return ParseTransport(p + at + kIpv6FragmentHeader, end - at - kIpv6FragmentHeader,
                          /*ipv6=*/true, out);
  }
  out->ip_protocol = next;
  return ParseTransport(p + at, end - at, /*ipv6=*/true, out);
}

}  // namespace

ParseVerdict ParseFrame(std::span<const uint8_t> frame, ParsedPacket* out) {
  *out = ParsedPacket{};
  const uint8_t* p = frame.data();
  const size_t size = frame.size();
  if (size < kEthernetHeader) return ParseVerdict::kTruncatedEthernet;
  std::memcpy(out->dst_mac.data(), p, 6);
  std::memcpy(out->src_mac.data(), p + 6, 6);
  uint16_t ethertype = LoadBe16(p + 12);
  size_t at = kEthernetHeader;
  for (int tags = 0; tags < kMaxVlanTags; ++tags) {
    if (ethertype != kEthertypeVlan && ethertype != kEthertypeQinQ) break;
    if (size - at < kVlanTag) return ParseVerdict::kTruncatedVlan;
    out->has_vlan = true;
    out->vlan_id = LoadBe16(p + at) & 0x0fff;
    ethertype = LoadBe16(p + at + 2);
    at += kVlanTag;
  }
  out->ethertype = ethertype;
  out->l3_offset = static_cast<uint32_t>(at);
  switch (ethertype) {
    case kEthertypeIpv4:
      out->l3 = L3Kind::kIpv4;
      return ParseIpv4(p + at, size - at, out);
    case kEthertypeIpv6:
      out->l3 = L3Kind::kIpv6;
      return ParseIpv6(p + at, size - at, out);
    case kEthertypeArp:
      out->l3 = L3Kind::kArp;
      return ParseArp(p + at, size - at, out);
    default:
      // Including a third VLAN tag: two are all that 802.1ad stacks in practice.
      return ParseVerdict::kUnsupportedEthertype;
  }
}

}  // namespace nlb
