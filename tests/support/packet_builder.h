// PacketBuilder: builds Ethernet frames for tests and benchmarks, with correct lengths and
// checksums unless a test corrupts them on purpose (see the free functions at the end).
//
//   auto frame = PacketBuilder().Vlan(7).Ipv4(Ip("198.18.0.1"), Ip("198.18.0.100"))
//                    .Tcp(40000, 80, kTcpSyn).Payload(10).Build();
//
// Layers are chosen by the calls made: one of ArpRequest/ArpReply/Ipv4/Ipv6/RawEthertype, then
// at most one of Tcp/Udp/IcmpEcho/Icmpv6Echo/NeighbourSolicitation/Protocol. Calls that do not
// fit the chosen layers (Ipv4Options on IPv6, say) abort: a test that builds the wrong packet
// must fail loudly, not quietly test something else. Single-threaded value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

#include "common/ip_address.h"
#include "common/packet.h"

namespace nlb {
// Lets gtest print addresses in failure messages as text.
void PrintTo(const IpAddress& address, std::ostream* os);
}  // namespace nlb

namespace nlb::test {

using Mac = std::array<uint8_t, 6>;

// Parses an address literal. Aborts on a typo, which is a bug in the test.
IpAddress Ip(std::string_view text);
// ff02::1:ffXX:XXXX, where an IPv6 neighbour solicitation for target is sent.
IpAddress SolicitedNodeMulticast(const IpAddress& target);

class PacketBuilder {
 public:
  PacketBuilder& SrcMac(const Mac& mac);
  PacketBuilder& DstMac(const Mac& mac);
  // Adds one tag after those added before (the first call is the outer tag).
  PacketBuilder& Vlan(uint16_t vlan_id, uint16_t tpid = 0x8100);

  // ARP over Ethernet/IPv4; the sender hardware address is the source MAC.
  PacketBuilder& ArpRequest(const IpAddress& sender, const IpAddress& target);
  PacketBuilder& ArpReply(const IpAddress& sender, const IpAddress& target);
  // Any other ethertype; the payload follows the Ethernet header directly.
  PacketBuilder& RawEthertype(uint16_t ethertype);

  PacketBuilder& Ipv4(const IpAddress& src, const IpAddress& dst);
  // REQUIRES: Ipv4 chosen. Padded with end-of-option-list bytes to a multiple of 4, at most 40.
  PacketBuilder& Ipv4Options(std::vector<uint8_t> options);
  PacketBuilder& Ttl(uint8_t ttl);
  PacketBuilder& Ipv6(const IpAddress& src, const IpAddress& dst);
  // REQUIRES: Ipv6 chosen. Appends a hop-by-hop (0), routing (43) or destination options (60)
  // header of 8 * (1 + length_units) bytes, after those appended before.
  PacketBuilder& Ipv6Extension(uint8_t type, uint8_t length_units = 0);
  // IPv4: sets the offset and MF flag. IPv6: appends a fragment header at this point of the
  // extension header chain. REQUIRES: offset_bytes % 8 == 0.
  PacketBuilder& Fragment(uint16_t offset_bytes, bool more_fragments, uint32_t id = 0x1234);

  PacketBuilder& Tcp(uint16_t src_port, uint16_t dst_port, uint8_t flags = kTcpSyn);
  PacketBuilder& Udp(uint16_t src_port, uint16_t dst_port);
  PacketBuilder& IcmpEcho(uint16_t id = 1, uint16_t sequence = 1);
  PacketBuilder& Icmpv6Echo(uint16_t id = 1, uint16_t sequence = 1);
  PacketBuilder& NeighbourSolicitation(const IpAddress& target);
  // Names the upper-layer protocol without writing its header (a non-first fragment, or a
  // protocol the parser does not look into).
  PacketBuilder& Protocol(uint8_t ip_protocol);

  PacketBuilder& Payload(std::vector<uint8_t> bytes);
  // Appends count bytes counting up from 0 (mod 256), so that corruption is easy to spot.
  PacketBuilder& Payload(size_t count);
  // Pads the finished frame with zeros to at least size bytes, as Ethernet does up to 60.
  PacketBuilder& PadTo(size_t size);

  std::vector<uint8_t> Build() const;

 private:
  enum class L3 : uint8_t { kNone, kArp, kIpv4, kIpv6, kRaw };
  enum class L4 : uint8_t { kNone, kTcp, kUdp, kIcmpEcho, kIcmpv6Echo, kNeighbourSolicitation };
  struct Extension {
    uint8_t type;
    uint8_t length_units;
    uint16_t fragment_offset;
    bool more_fragments;
    uint32_t id;
  };

  std::vector<uint8_t> Transport(uint8_t* protocol) const;
  std::vector<uint8_t> Ipv4Packet(const std::vector<uint8_t>& upper, uint8_t protocol) const;
  std::vector<uint8_t> Ipv6Packet(const std::vector<uint8_t>& upper, uint8_t protocol) const;
  std::vector<uint8_t> ArpPacket() const;

  Mac src_mac_{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  Mac dst_mac_{0x03, 0xbf, 0xc6, 0x12, 0x00, 0x64};
  std::vector<std::array<uint16_t, 2>> vlans_;  // {tpid, vlan id}
  L3 l3_ = L3::kNone;
  uint16_t raw_ethertype_ = 0;
  uint16_t arp_operation_ = 0;
  IpAddress src_;
  IpAddress dst_;
  std::vector<uint8_t> ipv4_options_;
  uint8_t ttl_ = 64;
  uint16_t ipv4_fragment_ = 0;  // flags and offset field as on the wire
  uint32_t ipv4_id_ = 0;
  std::vector<Extension> extensions_;
  L4 l4_ = L4::kNone;
  uint8_t protocol_ = 0;
  bool protocol_set_ = false;
  uint16_t src_port_ = 0;
  uint16_t dst_port_ = 0;
  uint8_t tcp_flags_ = 0;
  uint16_t icmp_id_ = 0;
  uint16_t icmp_sequence_ = 0;
  IpAddress nd_target_;
  std::vector<uint8_t> payload_;
  size_t pad_to_ = 0;
};

// Corruption helpers: each returns a modified copy.
std::vector<uint8_t> Truncated(std::vector<uint8_t> frame, size_t length);
std::vector<uint8_t> WithByte(std::vector<uint8_t> frame, size_t offset, uint8_t value);
std::vector<uint8_t> WithBe16(std::vector<uint8_t> frame, size_t offset, uint16_t value);
std::vector<uint8_t> WithBitFlipped(std::vector<uint8_t> frame, size_t bit);

// The Internet checksum (RFC 1071) of bytes, folded and complemented.
uint16_t InternetChecksum(const uint8_t* bytes, size_t length, uint32_t initial = 0);

}  // namespace nlb::test
