// Packet parsing for the data path: one Ethernet frame -> the fields the decision needs.
//
// ParseFrame never reads outside the span it is given, never allocates and never throws; a
// malformed or truncated frame gets a named ParseVerdict. Safe to call from any thread (pure).
// Supported: Ethernet II, one or two 802.1Q/802.1ad tags, ARP, IPv4 (options, fragments), IPv6
// (hop-by-hop, routing, destination options and fragment extension headers), TCP, UDP, ICMP,
// ICMPv6. The layout rules are written down in docs/packet-parsing.md.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/ip_address.h"

namespace nlb {

enum class ParseVerdict : uint8_t {
  kOk = 0,
  kTruncatedEthernet,      // shorter than 14 bytes
  kTruncatedVlan,          // a VLAN tag cut short
  kUnsupportedEthertype,   // not ARP, IPv4 or IPv6 (well formed, just not ours)
  kTruncatedArp,           // ARP shorter than its fixed Ethernet/IPv4 layout
  kUnsupportedArp,         // ARP for another hardware/protocol type
  kTruncatedIpv4,          // fewer than 20 bytes, or fewer than IHL*4
  kBadIpv4Version,         // version field is not 4
  kBadIpv4HeaderLength,    // IHL < 5
  kBadIpv4TotalLength,     // total length < header length or > bytes present
  kTruncatedIpv6,          // fewer than 40 bytes
  kBadIpv6Version,         // version field is not 6
  kBadIpv6PayloadLength,   // payload length > bytes present
  kBadIpv6ExtensionHeader, // an extension header runs past the packet, or too many of them
  kTruncatedTcp,           // first fragment (or unfragmented) TCP shorter than 20 bytes
  kBadTcpHeaderLength,     // data offset < 5 or past the packet
  kTruncatedUdp,           // fewer than 8 bytes
  kTruncatedIcmp,          // fewer than 4 bytes (type, code, checksum)
  kCount,
};

// Stable lower_snake_case name for logs, metrics and `nlbctl report` ("truncated_ipv4").
std::string_view ParseVerdictName(ParseVerdict verdict);

enum class L3Kind : uint8_t { kNone = 0, kArp, kIpv4, kIpv6 };

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

struct ParsedPacket {
  std::array<uint8_t, 6> dst_mac{};
  std::array<uint8_t, 6> src_mac{};
  uint16_t vlan_id = 0;  // innermost tag's VID when has_vlan
  bool has_vlan = false;
  uint16_t ethertype = 0;  // after VLAN tags
  L3Kind l3 = L3Kind::kNone;

  // IPv4/IPv6: source and destination. ARP: sender and target protocol addresses.
  IpAddress src;
  IpAddress dst;
  uint16_t arp_operation = 0;  // 1 request, 2 reply

  // Offset and length of the IP packet inside the frame (what is handed to a TUN device);
  // length is the IP total length, so Ethernet padding is excluded.
  uint32_t l3_offset = 0;
  uint32_t l3_length = 0;

  // Upper-layer protocol after IPv6 extension headers. For an IPv6 fragment, the fragment
  // header's next header: headers of the fragmentable part are not parsed, so that every piece of
  // one datagram reports the same protocol.
  uint8_t ip_protocol = 0;
  // Any piece of a fragmented datagram (IPv4 MF or offset != 0; IPv6 fragment header).
  bool is_fragment = false;
  // The piece at offset 0 (carries the L4 header). Meaningful only when is_fragment.
  bool is_first_fragment = false;

  // TCP/UDP ports and flags; has_ports is false for non-first fragments and other protocols.
  bool has_ports = false;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;

  // ICMP/ICMPv6 type and code when present (not for non-first fragments).
  bool has_icmp = false;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;

  // ICMPv6 neighbour solicitation (type 135) long enough to carry its target address: the
  // address asked about, which the decision compares with the VIPs.
  bool has_nd_target = false;
  IpAddress nd_target;
};

inline constexpr uint8_t kIcmpv6NeighbourSolicitation = 135;

// Parses frame into *out (which is fully overwritten). Returns kOk or the first problem found;
// fields parsed before the problem are left filled in. REQUIRES: out != nullptr.
ParseVerdict ParseFrame(std::span<const uint8_t> frame, ParsedPacket* out);

}  // namespace nlb
