// ParseFrame: a table of well-formed frames with the fields they must yield, a table with one
// frame per malformed verdict, truncation at every length, and random frames under ASan.
#include "common/packet.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using test::Ip;
using test::PacketBuilder;
using test::Truncated;
using test::WithBe16;
using test::WithByte;

}  // namespace

// Verdicts print by name in failure messages.
void PrintTo(ParseVerdict verdict, std::ostream* os) { *os << ParseVerdictName(verdict); }

namespace {

const IpAddress kClient4 = Ip("198.18.1.10");
const IpAddress kVip4 = Ip("198.18.0.100");
const IpAddress kClient6 = Ip("2001:2::10");
const IpAddress kVip6 = Ip("2001:2::100");

constexpr size_t kEth = 14;  // where the IP header starts in an untagged frame

// Fields a case checks; unset ones are not compared.
struct Want {
  std::optional<L3Kind> l3 = std::nullopt;
  std::optional<IpAddress> src = std::nullopt;
  std::optional<IpAddress> dst = std::nullopt;
  std::optional<uint8_t> ip_protocol = std::nullopt;
  std::optional<bool> has_vlan = std::nullopt;
  std::optional<uint16_t> vlan_id = std::nullopt;
  std::optional<uint16_t> ethertype = std::nullopt;
  std::optional<uint32_t> l3_offset = std::nullopt;
  std::optional<uint32_t> l3_length = std::nullopt;
  std::optional<bool> is_fragment = std::nullopt;
  std::optional<bool> is_first_fragment = std::nullopt;
  std::optional<bool> has_ports = std::nullopt;
  std::optional<uint16_t> src_port = std::nullopt;
  std::optional<uint16_t> dst_port = std::nullopt;
  std::optional<uint8_t> tcp_flags = std::nullopt;
  std::optional<bool> has_icmp = std::nullopt;
  std::optional<uint8_t> icmp_type = std::nullopt;
  std::optional<uint8_t> icmp_code = std::nullopt;
  std::optional<uint16_t> arp_operation = std::nullopt;
  std::optional<bool> has_nd_target = std::nullopt;
  std::optional<IpAddress> nd_target = std::nullopt;
};

struct Case {
  std::string description;
  std::vector<uint8_t> frame;
  ParseVerdict verdict;
  Want want;
};

template <typename T>
void ExpectField(const std::optional<T>& want, const T& got, const char* name) {
  if (want.has_value()) {
    EXPECT_EQ(*want, got) << name;
  }
}

void ExpectFields(const Want& w, const ParsedPacket& p) {
  ExpectField(w.l3, p.l3, "l3");
  ExpectField(w.src, p.src, "src");
  ExpectField(w.dst, p.dst, "dst");
  ExpectField(w.ip_protocol, p.ip_protocol, "ip_protocol");
  ExpectField(w.has_vlan, p.has_vlan, "has_vlan");
  ExpectField(w.vlan_id, p.vlan_id, "vlan_id");
  ExpectField(w.ethertype, p.ethertype, "ethertype");
  ExpectField(w.l3_offset, p.l3_offset, "l3_offset");
  ExpectField(w.l3_length, p.l3_length, "l3_length");
  ExpectField(w.is_fragment, p.is_fragment, "is_fragment");
  ExpectField(w.is_first_fragment, p.is_first_fragment, "is_first_fragment");
  ExpectField(w.has_ports, p.has_ports, "has_ports");
  ExpectField(w.src_port, p.src_port, "src_port");
  ExpectField(w.dst_port, p.dst_port, "dst_port");
  ExpectField(w.tcp_flags, p.tcp_flags, "tcp_flags");
  ExpectField(w.has_icmp, p.has_icmp, "has_icmp");
  ExpectField(w.icmp_type, p.icmp_type, "icmp_type");
  ExpectField(w.icmp_code, p.icmp_code, "icmp_code");
  ExpectField(w.arp_operation, p.arp_operation, "arp_operation");
  ExpectField(w.has_nd_target, p.has_nd_target, "has_nd_target");
  ExpectField(w.nd_target, p.nd_target, "nd_target");
}

void RunTable(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    ParsedPacket packet;
    EXPECT_EQ(ParseVerdictName(ParseFrame(c.frame, &packet)), ParseVerdictName(c.verdict));
    ExpectFields(c.want, packet);
  }
}

std::vector<uint8_t> Tcp4(uint8_t flags = kTcpSyn) {
  return PacketBuilder().Ipv4(kClient4, kVip4).Tcp(40000, 80, flags).Payload(10).Build();
}
std::vector<uint8_t> Udp4() {
  return PacketBuilder().Ipv4(kClient4, kVip4).Udp(5353, 53).Payload(20).Build();
}
std::vector<uint8_t> Tcp6() {
  return PacketBuilder().Ipv6(kClient6, kVip6).Tcp(40000, 443).Payload(10).Build();
}
std::vector<uint8_t> Arp() { return PacketBuilder().ArpRequest(kClient4, kVip4).Build(); }

TEST(ParseFrameTest, WellFormedFrames) {
  const std::vector<Case> cases = {
      {"IPv4 TCP SYN",
       Tcp4(),
       ParseVerdict::kOk,
       {.l3 = L3Kind::kIpv4,
        .src = kClient4,
        .dst = kVip4,
        .ip_protocol = kIpProtoTcp,
        .has_vlan = false,
        .ethertype = 0x0800,
        .l3_offset = kEth,
        .l3_length = 20 + 20 + 10,
        .is_fragment = false,
        .has_ports = true,
        .src_port = 40000,
        .dst_port = 80,
        .tcp_flags = kTcpSyn,
        .has_icmp = false}},
      {"IPv4 TCP FIN|ACK",
       Tcp4(kTcpFin | kTcpAck),
       ParseVerdict::kOk,
       {.tcp_flags = kTcpFin | kTcpAck}},
      {"IPv4 TCP RST", Tcp4(kTcpRst), ParseVerdict::kOk, {.tcp_flags = kTcpRst}},
      {"IPv4 TCP with options (data offset 8)",
       WithByte(PacketBuilder().Ipv4(kClient4, kVip4).Tcp(1, 2).Payload(12).Build(), kEth + 20 + 12,
                0x80),
       ParseVerdict::kOk,
       {.has_ports = true, .src_port = 1, .dst_port = 2}},
      {"IPv4 UDP",
       Udp4(),
       ParseVerdict::kOk,
       {.l3 = L3Kind::kIpv4,
        .ip_protocol = kIpProtoUdp,
        .l3_length = 20 + 8 + 20,
        .has_ports = true,
        .src_port = 5353,
        .dst_port = 53,
        .tcp_flags = 0}},
      {"IPv4 with 12 bytes of options",
       PacketBuilder()
           .Ipv4(kClient4, kVip4)
           .Ipv4Options({0x94, 0x04, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0})
           .Udp(1000, 2000)
           .Build(),
       ParseVerdict::kOk,
       {.l3_length = 32 + 8, .has_ports = true, .src_port = 1000, .dst_port = 2000}},
      {"IPv4 with the longest header (60 bytes)",
       PacketBuilder()
           .Ipv4(kClient4, kVip4)
           .Ipv4Options(std::vector<uint8_t>(40, 1))
           .Tcp(7, 8)
           .Build(),
       ParseVerdict::kOk,
       {.l3_length = 60 + 20, .src_port = 7, .dst_port = 8}},
      {"IPv4 padded to 60 bytes: padding is not in l3_length",
       PacketBuilder().Ipv4(kClient4, kVip4).Udp(1, 2).PadTo(60).Build(),
       ParseVerdict::kOk,
       {.l3_offset = kEth, .l3_length = 28, .has_ports = true}},
      {"IPv4 ICMP echo",
       PacketBuilder().Ipv4(kClient4, kVip4).IcmpEcho().Payload(56).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoIcmp,
        .has_ports = false,
        .has_icmp = true,
        .icmp_type = 8,
        .icmp_code = 0}},
      {"IPv4 other protocol (GRE) parses without ports",
       PacketBuilder().Ipv4(kClient4, kVip4).Protocol(47).Payload(3).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = 47, .has_ports = false, .has_icmp = false}},
      {"IPv4 with protocol 58 is not ICMPv6",
       PacketBuilder().Ipv4(kClient4, kVip4).Protocol(58).Payload(1).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = 58, .has_icmp = false}},
      {"IPv4 first fragment carries the ports",
       PacketBuilder().Ipv4(kClient4, kVip4).Fragment(0, true).Udp(5000, 53).Payload(100).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoUdp,
        .is_fragment = true,
        .is_first_fragment = true,
        .has_ports = true,
        .src_port = 5000,
        .dst_port = 53}},
      {"IPv4 middle fragment has no ports",
       PacketBuilder()
           .Ipv4(kClient4, kVip4)
           .Fragment(1480, true)
           .Protocol(kIpProtoUdp)
           .Payload(1480)
           .Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoUdp,
        .l3_length = 20 + 1480,
        .is_fragment = true,
        .is_first_fragment = false,
        .has_ports = false,
        .src_port = 0,
        .dst_port = 0}},
      {"IPv4 last fragment has no ports",
       PacketBuilder()
           .Ipv4(kClient4, kVip4)
           .Fragment(2960, false)
           .Protocol(kIpProtoTcp)
           .Payload(3)
           .Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoTcp,
        .is_fragment = true,
        .is_first_fragment = false,
        .has_ports = false}},
      {"IPv4 non-first fragment shorter than a TCP header is fine",
       PacketBuilder()
           .Ipv4(kClient4, kVip4)
           .Fragment(8, false)
           .Protocol(kIpProtoTcp)
           .Payload(1)
           .Build(),
       ParseVerdict::kOk,
       {.is_fragment = true, .has_ports = false}},
      {"802.1Q tag",
       PacketBuilder().Vlan(100).Ipv4(kClient4, kVip4).Tcp(1, 80).Build(),
       ParseVerdict::kOk,
       {.dst = kVip4,
        .has_vlan = true,
        .vlan_id = 100,
        .ethertype = 0x0800,
        .l3_offset = 18,
        .dst_port = 80}},
      {"802.1ad outer + 802.1Q inner: the inner VID is reported",
       PacketBuilder().Vlan(5, 0x88a8).Vlan(4095).Ipv6(kClient6, kVip6).Udp(1, 53).Build(),
       ParseVerdict::kOk,
       {.l3 = L3Kind::kIpv6,
        .has_vlan = true,
        .vlan_id = 4095,
        .ethertype = 0x86dd,
        .l3_offset = 22,
        .dst_port = 53}},
      {"VLAN priority bits are not part of the VID",
       WithByte(PacketBuilder().Vlan(7).Ipv4(kClient4, kVip4).Udp(1, 2).Build(), kEth, 0xe0),
       ParseVerdict::kOk,
       {.vlan_id = 7}},
      {"ARP request",
       Arp(),
       ParseVerdict::kOk,
       {.l3 = L3Kind::kArp,
        .src = kClient4,
        .dst = kVip4,
        .ethertype = 0x0806,
        .l3_offset = kEth,
        .l3_length = 28,
        .has_ports = false,
        .arp_operation = 1}},
      {"ARP reply padded to 60",
       PacketBuilder().ArpReply(kVip4, kClient4).PadTo(60).Build(),
       ParseVerdict::kOk,
       {.src = kVip4, .dst = kClient4, .l3_length = 28, .arp_operation = 2}},
      {"ARP in a VLAN",
       PacketBuilder().Vlan(3).ArpRequest(kClient4, kVip4).Build(),
       ParseVerdict::kOk,
       {.l3 = L3Kind::kArp, .vlan_id = 3, .l3_offset = 18}},
      {"IPv6 TCP",
       Tcp6(),
       ParseVerdict::kOk,
       {.l3 = L3Kind::kIpv6,
        .src = kClient6,
        .dst = kVip6,
        .ip_protocol = kIpProtoTcp,
        .l3_offset = kEth,
        .l3_length = 40 + 20 + 10,
        .is_fragment = false,
        .has_ports = true,
        .src_port = 40000,
        .dst_port = 443,
        .tcp_flags = kTcpSyn}},
      {"IPv6 hop-by-hop, routing and destination options before UDP",
       PacketBuilder()
           .Ipv6(kClient6, kVip6)
           .Ipv6Extension(0)
           .Ipv6Extension(43, 2)
           .Ipv6Extension(60, 1)
           .Udp(9, 10)
           .Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoUdp,
        .l3_length = 40 + 8 + 24 + 16 + 8,
        .has_ports = true,
        .src_port = 9,
        .dst_port = 10}},
      {"IPv6 eight extension headers are allowed",
       [] {
         PacketBuilder b;
         b.Ipv6(kClient6, kVip6);
         for (int i = 0; i < 8; ++i) b.Ipv6Extension(60);
         return b.Udp(1, 2).Build();
       }(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoUdp, .dst_port = 2}},
      {"IPv6 first fragment",
       PacketBuilder().Ipv6(kClient6, kVip6).Fragment(0, true).Tcp(1234, 80).Payload(100).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoTcp,
        .is_fragment = true,
        .is_first_fragment = true,
        .has_ports = true,
        .src_port = 1234,
        .dst_port = 80}},
      {"IPv6 middle fragment after hop-by-hop",
       PacketBuilder()
           .Ipv6(kClient6, kVip6)
           .Ipv6Extension(0)
           .Fragment(1232, true)
           .Protocol(kIpProtoTcp)
           .Payload(1232)
           .Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoTcp,
        .is_fragment = true,
        .is_first_fragment = false,
        .has_ports = false}},
      {"IPv6 last fragment with only the fragment header's worth",
       PacketBuilder().Ipv6(kClient6, kVip6).Fragment(2464, false).Protocol(kIpProtoUdp).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoUdp,
        .l3_length = 48,
        .is_fragment = true,
        .is_first_fragment = false,
        .has_ports = false}},
      {"IPv6 atomic fragment (offset 0, no M flag) is a first fragment",
       PacketBuilder().Ipv6(kClient6, kVip6).Fragment(0, false).Udp(1, 2).Build(),
       ParseVerdict::kOk,
       {.is_fragment = true, .is_first_fragment = true, .has_ports = true}},
      {"IPv6 first fragment followed by destination options: parsing stops at the fragment "
       "header so every piece reports the same protocol",
       PacketBuilder().Ipv6(kClient6, kVip6).Fragment(0, true).Ipv6Extension(60).Udp(1, 2).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = 60, .is_fragment = true, .has_ports = false}},
      {"IPv6 no next header",
       PacketBuilder().Ipv6(kClient6, kVip6).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = 59, .l3_length = 40, .has_ports = false}},
      {"ICMPv6 echo",
       PacketBuilder().Ipv6(kClient6, kVip6).Icmpv6Echo().Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoIcmpv6, .has_icmp = true, .icmp_type = 128, .has_nd_target = false}},
      {"ICMPv6 neighbour solicitation",
       PacketBuilder()
           .Ipv6(kClient6, test::SolicitedNodeMulticast(kVip6))
           .NeighbourSolicitation(kVip6)
           .Build(),
       ParseVerdict::kOk,
       {.dst = Ip("ff02::1:ff00:100"),
        .ip_protocol = kIpProtoIcmpv6,
        .has_icmp = true,
        .icmp_type = 135,
        .has_nd_target = true,
        .nd_target = kVip6}},
      {"ICMPv6 type 135 too short for a target has none",
       PacketBuilder()
           .Ipv6(kClient6, kVip6)
           .Protocol(kIpProtoIcmpv6)
           .Payload({135, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3})
           .Build(),
       ParseVerdict::kOk,
       {.has_icmp = true, .icmp_type = 135, .has_nd_target = false}},
      {"IPv6 with protocol 1 is not ICMP",
       PacketBuilder().Ipv6(kClient6, kVip6).Protocol(kIpProtoIcmp).Payload(1).Build(),
       ParseVerdict::kOk,
       {.ip_protocol = kIpProtoIcmp, .has_icmp = false}},
  };
  RunTable(cases);
}

TEST(ParseFrameTest, MalformedFrames) {
  const std::vector<Case> cases = {
      {"empty frame", {}, ParseVerdict::kTruncatedEthernet, {.l3 = L3Kind::kNone}},
      {"13 bytes", Truncated(Tcp4(), 13), ParseVerdict::kTruncatedEthernet, {}},
      {"VLAN tag cut short",
       Truncated(PacketBuilder().Vlan(1).Ipv4(kClient4, kVip4).Udp(1, 2).Build(), 16),
       ParseVerdict::kTruncatedVlan,
       {}},
      {"second VLAN tag cut short",
       Truncated(PacketBuilder().Vlan(1, 0x88a8).Vlan(2).Ipv4(kClient4, kVip4).Build(), 20),
       ParseVerdict::kTruncatedVlan,
       {.vlan_id = 1}},
      {"LLDP is not ours",
       PacketBuilder().RawEthertype(0x88cc).Payload(30).Build(),
       ParseVerdict::kUnsupportedEthertype,
       {.ethertype = 0x88cc}},
      {"three VLAN tags",
       PacketBuilder().Vlan(1, 0x88a8).Vlan(2).Vlan(3).Ipv4(kClient4, kVip4).Udp(1, 2).Build(),
       ParseVerdict::kUnsupportedEthertype,
       {.vlan_id = 2, .ethertype = 0x8100}},
      {"ARP without its fixed header",
       Truncated(Arp(), kEth + 7),
       ParseVerdict::kTruncatedArp,
       {.l3 = L3Kind::kArp}},
      {"ARP cut before the target address",
       Truncated(Arp(), kEth + 27),
       ParseVerdict::kTruncatedArp,
       {}},
      {"ARP for another hardware type",
       WithBe16(Arp(), kEth, 6),
       ParseVerdict::kUnsupportedArp,
       {}},
      {"ARP for another protocol type",
       WithBe16(Arp(), kEth + 2, 0x86dd),
       ParseVerdict::kUnsupportedArp,
       {}},
      {"ARP with hardware length 8",
       WithByte(Arp(), kEth + 4, 8),
       ParseVerdict::kUnsupportedArp,
       {}},
      {"ARP with protocol length 16",
       WithByte(Arp(), kEth + 5, 16),
       ParseVerdict::kUnsupportedArp,
       {}},
      {"IPv4 shorter than 20 bytes",
       Truncated(Tcp4(), kEth + 19),
       ParseVerdict::kTruncatedIpv4,
       {.l3 = L3Kind::kIpv4}},
      {"IPv4 IHL past the bytes present",
       WithByte(Tcp4(), kEth, 0x4f),
       ParseVerdict::kTruncatedIpv4,
       {}},
      {"IPv4 version 6 in an IPv4 ethertype",
       WithByte(Tcp4(), kEth, 0x65),
       ParseVerdict::kBadIpv4Version,
       {}},
      {"IPv4 IHL 4", WithByte(Tcp4(), kEth, 0x44), ParseVerdict::kBadIpv4HeaderLength, {}},
      {"IPv4 IHL 0", WithByte(Tcp4(), kEth, 0x40), ParseVerdict::kBadIpv4HeaderLength, {}},
      {"IPv4 total length past the frame",
       WithBe16(Tcp4(), kEth + 2, 51),
       ParseVerdict::kBadIpv4TotalLength,
       {}},
      {"IPv4 total length below the header",
       WithBe16(Tcp4(), kEth + 2, 19),
       ParseVerdict::kBadIpv4TotalLength,
       {}},
      {"IPv4 total length 0 (TSO-style) is rejected",
       WithBe16(Tcp4(), kEth + 2, 0),
       ParseVerdict::kBadIpv4TotalLength,
       {}},
      {"IPv6 shorter than 40 bytes",
       Truncated(Tcp6(), kEth + 39),
       ParseVerdict::kTruncatedIpv6,
       {.l3 = L3Kind::kIpv6}},
      {"IPv6 version 4 in an IPv6 ethertype",
       WithByte(Tcp6(), kEth, 0x40),
       ParseVerdict::kBadIpv6Version,
       {}},
      {"IPv6 payload length past the frame",
       WithBe16(Tcp6(), kEth + 4, 31),
       ParseVerdict::kBadIpv6PayloadLength,
       {}},
      {"IPv6 extension header length past the packet",
       WithByte(PacketBuilder().Ipv6(kClient6, kVip6).Ipv6Extension(0).Udp(1, 2).Build(), kEth + 41,
                2),
       ParseVerdict::kBadIpv6ExtensionHeader,
       {}},
      {"IPv6 extension header with fewer than 8 bytes left",
       PacketBuilder().Ipv6(kClient6, kVip6).Protocol(60).Payload(7).Build(),
       ParseVerdict::kBadIpv6ExtensionHeader,
       {}},
      {"IPv6 fragment header cut short",
       PacketBuilder().Ipv6(kClient6, kVip6).Protocol(44).Payload(4).Build(),
       ParseVerdict::kBadIpv6ExtensionHeader,
       {}},
      {"IPv6 nine extension headers",
       [] {
         PacketBuilder b;
         b.Ipv6(kClient6, kVip6);
         for (int i = 0; i < 9; ++i) b.Ipv6Extension(60);
         return b.Udp(1, 2).Build();
       }(),
       ParseVerdict::kBadIpv6ExtensionHeader,
       {}},
      {"IPv4 TCP shorter than 20 bytes",
       PacketBuilder().Ipv4(kClient4, kVip4).Protocol(kIpProtoTcp).Payload(19).Build(),
       ParseVerdict::kTruncatedTcp,
       {.ip_protocol = kIpProtoTcp}},
      {"IPv4 first fragment with a tiny TCP header",
       PacketBuilder()
           .Ipv4(kClient4, kVip4)
           .Fragment(0, true)
           .Protocol(kIpProtoTcp)
           .Payload(8)
           .Build(),
       ParseVerdict::kTruncatedTcp,
       {.is_fragment = true}},
      {"IPv6 TCP shorter than 20 bytes",
       PacketBuilder().Ipv6(kClient6, kVip6).Protocol(kIpProtoTcp).Payload(10).Build(),
       ParseVerdict::kTruncatedTcp,
       {}},
      {"TCP data offset 4",
       WithByte(Tcp4(), kEth + 20 + 12, 0x40),
       ParseVerdict::kBadTcpHeaderLength,
       {}},
      {"TCP data offset past the packet",
       WithByte(Tcp4(), kEth + 20 + 12, 0x80),
       ParseVerdict::kBadTcpHeaderLength,
       {}},
      {"UDP shorter than 8 bytes",
       PacketBuilder().Ipv4(kClient4, kVip4).Protocol(kIpProtoUdp).Payload(7).Build(),
       ParseVerdict::kTruncatedUdp,
       {}},
      {"UDP bytes beyond the IP total length do not count",
       WithBe16(PacketBuilder().Ipv4(kClient4, kVip4).Udp(1, 2).Build(), kEth + 2, 20 + 7),
       ParseVerdict::kTruncatedUdp,
       {}},
      {"ICMP shorter than 4 bytes",
       PacketBuilder().Ipv4(kClient4, kVip4).Protocol(kIpProtoIcmp).Payload(3).Build(),
       ParseVerdict::kTruncatedIcmp,
       {}},
      {"ICMPv6 shorter than 4 bytes",
       PacketBuilder().Ipv6(kClient6, kVip6).Protocol(kIpProtoIcmpv6).Payload(2).Build(),
       ParseVerdict::kTruncatedIcmp,
       {}},
  };
  RunTable(cases);

  // Every malformed verdict is exercised by some case above.
  std::set<ParseVerdict> seen;
  for (const Case& c : cases) seen.insert(c.verdict);
  for (int v = 1; v < static_cast<int>(ParseVerdict::kCount); ++v) {
    EXPECT_TRUE(seen.count(static_cast<ParseVerdict>(v)))
        << ParseVerdictName(static_cast<ParseVerdict>(v));
  }
}

TEST(ParseFrameTest, OutputIsOverwritten) {
  ParsedPacket packet;
  ASSERT_EQ(ParseFrame(Tcp4(), &packet), ParseVerdict::kOk);
  ASSERT_TRUE(packet.has_ports);
  EXPECT_EQ(ParseFrame(Truncated(Tcp4(), 5), &packet), ParseVerdict::kTruncatedEthernet);
  EXPECT_FALSE(packet.has_ports);
  EXPECT_EQ(packet.dst_port, 0);
  EXPECT_EQ(packet.l3, L3Kind::kNone);
}

// Every valid frame cut at every shorter length: nothing read past the end (ASan) and, as lengths
// cover the whole packet, every cut is reported (unless only Ethernet padding was cut).
TEST(ParseFrameTest, TruncationAtEveryLength) {
  const std::vector<std::vector<uint8_t>> frames = {
      Tcp4(),
      Udp4(),
      Tcp6(),
      Arp(),
      PacketBuilder()
          .Vlan(1, 0x88a8)
          .Vlan(2)
          .Ipv4(kClient4, kVip4)
          .Ipv4Options({1, 1, 1, 1})
          .Tcp(1, 2)
          .Build(),
      PacketBuilder().Ipv4(kClient4, kVip4).IcmpEcho().Build(),
      PacketBuilder()
          .Ipv4(kClient4, kVip4)
          .Fragment(8, true)
          .Protocol(kIpProtoUdp)
          .Payload(16)
          .Build(),
      PacketBuilder()
          .Ipv6(kClient6, kVip6)
          .Ipv6Extension(0)
          .Ipv6Extension(43, 1)
          .Fragment(0, true)
          .Udp(1, 2)
          .Build(),
      PacketBuilder()
          .Ipv6(kClient6, test::SolicitedNodeMulticast(kVip6))
          .NeighbourSolicitation(kVip6)
          .Build(),
  };
  for (size_t f = 0; f < frames.size(); ++f) {
    ParsedPacket packet;
    ASSERT_EQ(ParseFrame(frames[f], &packet), ParseVerdict::kOk) << "frame " << f;
    for (size_t length = 0; length < frames[f].size(); ++length) {
      // A copy of exactly `length` bytes, so that ASan sees any read past it.
      const std::vector<uint8_t> cut(frames[f].begin(), frames[f].begin() + length);
      EXPECT_NE(ParseFrame(cut, &packet), ParseVerdict::kOk)
          << "frame " << f << " cut to " << length;
    }
  }

  const std::vector<uint8_t> padded = PacketBuilder().ArpRequest(kClient4, kVip4).PadTo(60).Build();
  for (size_t length = 0; length < padded.size(); ++length) {
    const std::vector<uint8_t> cut(padded.begin(), padded.begin() + length);
    ParsedPacket packet;
    const bool ok = ParseFrame(cut, &packet) == ParseVerdict::kOk;
    EXPECT_EQ(ok, length >= kEth + 28) << "padded ARP cut to " << length;
  }
}

// Random and bit-flipped frames: no crash, no read outside the span (ASan), and whatever parses
// as ok describes an IP packet that lies inside the frame.
TEST(ParseFrameTest, RandomFramesNeverCrash) {
  std::mt19937 rng(20261123);
  const std::vector<std::vector<uint8_t>> seeds = {
      Tcp4(),
      Udp4(),
      Tcp6(),
      Arp(),
      PacketBuilder()
          .Vlan(9)
          .Ipv6(kClient6, kVip6)
          .Ipv6Extension(0)
          .Fragment(0, true)
          .Tcp(1, 2)
          .Build(),
      PacketBuilder().Ipv4(kClient4, kVip4).Ipv4Options({1, 1, 1, 1}).IcmpEcho().Build(),
      PacketBuilder()
          .Ipv6(kClient6, test::SolicitedNodeMulticast(kVip6))
          .NeighbourSolicitation(kVip6)
          .Build(),
  };
  int ok_count = 0;
  for (int i = 0; i < 200000; ++i) {
    std::vector<uint8_t> frame;
    if (i % 4 == 0) {
      frame.resize(rng() % 128);
      for (auto& byte : frame) byte = static_cast<uint8_t>(rng());
      // Steer a share of the noise into the IP and VLAN parsers.
      if (frame.size() >= 14 && i % 8 == 0) {
        static constexpr uint16_t kTypes[] = {0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8};
        const uint16_t type = kTypes[rng() % 5];
        frame[12] = static_cast<uint8_t>(type >> 8);
        frame[13] = static_cast<uint8_t>(type);
      }
    } else {
      frame = seeds[rng() % seeds.size()];
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k)
        frame = test::WithBitFlipped(frame, rng() % (frame.size() * 8));
      if (rng() % 4 == 0) frame.resize(rng() % (frame.size() + 1));
    }
    ParsedPacket packet;
    if (ParseFrame(frame, &packet) != ParseVerdict::kOk) continue;
    ++ok_count;
    ASSERT_LE(uint64_t{packet.l3_offset} + packet.l3_length, frame.size()) << "iteration " << i;
    if (packet.has_ports) {
      ASSERT_TRUE(packet.ip_protocol == kIpProtoTcp || packet.ip_protocol == kIpProtoUdp);
      ASSERT_FALSE(packet.is_fragment && !packet.is_first_fragment);
    }
  }
  // The fuzzing reached past the error paths.
  EXPECT_GT(ok_count, 10000);
}

// The builder's frames are valid on the wire: checksums verify (a sum over the header, or over
// the pseudo-header and segment, including the checksum field, folds to zero).
TEST(PacketBuilderTest, ChecksumsVerify) {
  const std::vector<uint8_t> v4 = Udp4();
  EXPECT_EQ(test::InternetChecksum(v4.data() + kEth, 20), 0);
  const std::vector<uint8_t> opts =
      PacketBuilder().Ipv4(kClient4, kVip4).Ipv4Options({1, 1, 1}).Tcp(1, 2).Build();
  EXPECT_EQ(test::InternetChecksum(opts.data() + kEth, 24), 0);

  const auto pseudo = [](const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                         size_t length) {
    std::vector<uint8_t> bytes(src.bytes.begin(), src.bytes.begin() + src.size());
    bytes.insert(bytes.end(), dst.bytes.begin(), dst.bytes.begin() + dst.size());
    bytes.push_back(0);
    bytes.push_back(protocol);
    bytes.push_back(static_cast<uint8_t>(length >> 8));
    bytes.push_back(static_cast<uint8_t>(length));
    return bytes;
  };
  struct Segment {
    std::string description;
    std::vector<uint8_t> frame;
    size_t l4_offset;
    const IpAddress& src;
    const IpAddress& dst;
    uint8_t protocol;
  };
  const std::vector<Segment> segments = {
      {"udp4", Udp4(), kEth + 20, kClient4, kVip4, kIpProtoUdp},
      {"tcp4", Tcp4(), kEth + 20, kClient4, kVip4, kIpProtoTcp},
      {"tcp6", Tcp6(), kEth + 40, kClient6, kVip6, kIpProtoTcp},
      {"icmpv6 ns", PacketBuilder().Ipv6(kClient6, kVip6).NeighbourSolicitation(kVip6).Build(),
       kEth + 40, kClient6, kVip6, kIpProtoIcmpv6},
  };
  for (const Segment& s : segments) {
    const size_t length = s.frame.size() - s.l4_offset;
    std::vector<uint8_t> bytes = pseudo(s.src, s.dst, s.protocol, length);
    bytes.insert(bytes.end(), s.frame.begin() + static_cast<std::ptrdiff_t>(s.l4_offset),
                 s.frame.end());
    EXPECT_EQ(test::InternetChecksum(bytes.data(), bytes.size()), 0) << s.description;
  }
  const std::vector<uint8_t> icmp =
      PacketBuilder().Ipv4(kClient4, kVip4).IcmpEcho().Payload(5).Build();
  EXPECT_EQ(test::InternetChecksum(icmp.data() + kEth + 20, icmp.size() - kEth - 20), 0);
}

TEST(ParseVerdictNameTest, NamesAreUniqueAndSnakeCase) {
  std::set<std::string_view> names;
  for (int v = 0; v < static_cast<int>(ParseVerdict::kCount); ++v) {
    const std::string_view name = ParseVerdictName(static_cast<ParseVerdict>(v));
    EXPECT_NE(name, "unknown") << v;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), name.npos) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(ParseVerdict::kCount));
  EXPECT_EQ(ParseVerdictName(ParseVerdict::kTruncatedIpv4), "truncated_ipv4");
  EXPECT_EQ(ParseVerdictName(ParseVerdict::kCount), "unknown");
}

}  // namespace
}  // namespace nlb
