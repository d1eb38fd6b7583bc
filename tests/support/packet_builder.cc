#include "tests/support/packet_builder.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace nlb {
void PrintTo(const IpAddress& address, std::ostream* os) { *os << address.ToString(); }
}  // namespace nlb

namespace nlb::test {
namespace {

[[noreturn]] void Misuse(const char* what) {
  std::fprintf(stderr, "PacketBuilder misuse: %s\n", what);
  std::abort();
}

void PutBe16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value & 0xff));
}

void PutBe32(std::vector<uint8_t>& out, uint32_t value) {
  PutBe16(out, static_cast<uint16_t>(value >> 16));
  PutBe16(out, static_cast<uint16_t>(value & 0xffff));
}

void StoreBe16(uint8_t* p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value & 0xff);
}

void PutAddress(std::vector<uint8_t>& out, const IpAddress& address) {
  out.insert(out.end(), address.bytes.begin(), address.bytes.begin() + address.size());
}

uint32_t SumWords(const uint8_t* bytes, size_t length, uint32_t sum) {
  for (size_t i = 0; i + 1 < length; i += 2)
    sum += (static_cast<uint32_t>(bytes[i]) << 8) | bytes[i + 1];
  if (length % 2 == 1) sum += static_cast<uint32_t>(bytes[length - 1]) << 8;
  return sum;
}

// Sum of the IPv4 or IPv6 pseudo-header that TCP, UDP and ICMPv6 checksums cover.
uint32_t PseudoHeaderSum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                         size_t length) {
  uint32_t sum = SumWords(src.bytes.data(), src.size(), 0);
  sum = SumWords(dst.bytes.data(), dst.size(), sum);
  sum += protocol;
  sum += static_cast<uint32_t>(length >> 16) + static_cast<uint32_t>(length & 0xffff);
  return sum;
}

}  // namespace

uint16_t InternetChecksum(const uint8_t* bytes, size_t length, uint32_t initial) {
  uint32_t sum = SumWords(bytes, length, initial);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

IpAddress Ip(std::string_view text) {
  const auto parsed = IpAddress::Parse(text);
  if (!parsed) {
    std::fprintf(stderr, "not an IP address: '%s'\n", std::string(text).c_str());
    std::abort();
  }
  return *parsed;
}

IpAddress SolicitedNodeMulticast(const IpAddress& target) {
  IpAddress out = Ip("ff02::1:ff00:0");
  out.bytes[13] = target.bytes[13];
  out.bytes[14] = target.bytes[14];
  out.bytes[15] = target.bytes[15];
  return out;
}

PacketBuilder& PacketBuilder::SrcMac(const Mac& mac) {
  src_mac_ = mac;
  return *this;
}

PacketBuilder& PacketBuilder::DstMac(const Mac& mac) {
  dst_mac_ = mac;
  return *this;
}

PacketBuilder& PacketBuilder::Vlan(uint16_t vlan_id, uint16_t tpid) {
  vlans_.push_back({tpid, vlan_id});
  return *this;
}

PacketBuilder& PacketBuilder::ArpRequest(const IpAddress& sender, const IpAddress& target) {
  if (!sender.is_v4() || !target.is_v4()) Misuse("ARP needs IPv4 addresses");
  l3_ = L3::kArp;
  arp_operation_ = 1;
  src_ = sender;
  dst_ = target;
  return *this;
}

PacketBuilder& PacketBuilder::ArpReply(const IpAddress& sender, const IpAddress& target) {
  ArpRequest(sender, target);
  arp_operation_ = 2;
  return *this;
}

PacketBuilder& PacketBuilder::RawEthertype(uint16_t ethertype) {
  l3_ = L3::kRaw;
  raw_ethertype_ = ethertype;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4(const IpAddress& src, const IpAddress& dst) {
  if (!src.is_v4() || !dst.is_v4()) Misuse("Ipv4 needs IPv4 addresses");
  l3_ = L3::kIpv4;
  src_ = src;
  dst_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4Options(std::vector<uint8_t> options) {
  if (l3_ != L3::kIpv4) Misuse("Ipv4Options before Ipv4");
  while (options.size() % 4 != 0) options.push_back(0);
  if (options.size() > 40) Misuse("IPv4 options longer than 40 bytes");
  ipv4_options_ = std::move(options);
  return *this;
}

PacketBuilder& PacketBuilder::Ttl(uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6(const IpAddress& src, const IpAddress& dst) {
  if (!src.is_v6() || !dst.is_v6()) Misuse("Ipv6 needs IPv6 addresses");
  l3_ = L3::kIpv6;
  src_ = src;
  dst_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Extension(uint8_t type, uint8_t length_units) {
  if (l3_ != L3::kIpv6) Misuse("Ipv6Extension before Ipv6");
  extensions_.push_back({type, length_units, 0, false, 0});
  return *this;
}

PacketBuilder& PacketBuilder::Fragment(uint16_t offset_bytes, bool more_fragments, uint32_t id) {
  if (offset_bytes % 8 != 0) Misuse("fragment offset is not a multiple of 8");
  const auto units = static_cast<uint16_t>(offset_bytes / 8);
  if (l3_ == L3::kIpv4) {
    ipv4_fragment_ = static_cast<uint16_t>((more_fragments ? 0x2000 : 0) | (units & 0x1fff));
    ipv4_id_ = id;
  } else if (l3_ == L3::kIpv6) {
    extensions_.push_back({44, 0, units, more_fragments, id});
  } else {
    Misuse("Fragment before Ipv4 or Ipv6");
  }
  return *this;
}

PacketBuilder& PacketBuilder::Tcp(uint16_t src_port, uint16_t dst_port, uint8_t flags) {
  l4_ = L4::kTcp;
  src_port_ = src_port;
  dst_port_ = dst_port;
  tcp_flags_ = flags;
  return *this;
}

PacketBuilder& PacketBuilder::Udp(uint16_t src_port, uint16_t dst_port) {
  l4_ = L4::kUdp;
  src_port_ = src_port;
  dst_port_ = dst_port;
  return *this;
}

PacketBuilder& PacketBuilder::IcmpEcho(uint16_t id, uint16_t sequence) {
  l4_ = L4::kIcmpEcho;
  icmp_id_ = id;
  icmp_sequence_ = sequence;
  return *this;
}

PacketBuilder& PacketBuilder::Icmpv6Echo(uint16_t id, uint16_t sequence) {
  l4_ = L4::kIcmpv6Echo;
  icmp_id_ = id;
  icmp_sequence_ = sequence;
  return *this;
}

PacketBuilder& PacketBuilder::NeighbourSolicitation(const IpAddress& target) {
  if (!target.is_v6()) Misuse("neighbour solicitation for a non-IPv6 target");
  l4_ = L4::kNeighbourSolicitation;
  nd_target_ = target;
  return *this;
}

PacketBuilder& PacketBuilder::Protocol(uint8_t ip_protocol) {
  l4_ = L4::kNone;
  protocol_ = ip_protocol;
  protocol_set_ = true;
  return *this;
}

PacketBuilder& PacketBuilder::Payload(std::vector<uint8_t> bytes) {
  payload_.insert(payload_.end(), bytes.begin(), bytes.end());
  return *this;
}

PacketBuilder& PacketBuilder::Payload(size_t count) {
  for (size_t i = 0; i < count; ++i) payload_.push_back(static_cast<uint8_t>(i));
  return *this;
}

PacketBuilder& PacketBuilder::PadTo(size_t size) {
  pad_to_ = size;
  return *this;
}

std::vector<uint8_t> PacketBuilder::Transport(uint8_t* protocol) const {
  std::vector<uint8_t> out;
  size_t checksum_at = 0;
  bool pseudo_header = true;
  switch (l4_) {
    case L4::kNone:
      *protocol = protocol_set_ ? protocol_ : 59;  // IPv6 "no next header"
      out = payload_;
      return out;
    case L4::kTcp:
      *protocol = kIpProtoTcp;
      PutBe16(out, src_port_);
      PutBe16(out, dst_port_);
      PutBe32(out, 1000);     // sequence
      PutBe32(out, 0);        // acknowledgement
      out.push_back(5 << 4);  // data offset: 20 bytes, no options
      out.push_back(tcp_flags_);
      PutBe16(out, 65535);  // window
      PutBe16(out, 0);      // checksum
      PutBe16(out, 0);      // urgent pointer
      checksum_at = 16;
      break;
    case L4::kUdp:
      *protocol = kIpProtoUdp;
      PutBe16(out, src_port_);
      PutBe16(out, dst_port_);
      PutBe16(out, static_cast<uint16_t>(8 + payload_.size()));
      PutBe16(out, 0);
      checksum_at = 6;
      break;
    case L4::kIcmpEcho:
    case L4::kIcmpv6Echo:
      *protocol = l4_ == L4::kIcmpEcho ? kIpProtoIcmp : kIpProtoIcmpv6;
      pseudo_header = l4_ == L4::kIcmpv6Echo;
      out.push_back(l4_ == L4::kIcmpEcho ? 8 : 128);  // echo request
      out.push_back(0);
      PutBe16(out, 0);
      PutBe16(out, icmp_id_);
      PutBe16(out, icmp_sequence_);
      checksum_at = 2;
      break;
    case L4::kNeighbourSolicitation:
      *protocol = kIpProtoIcmpv6;
      out.push_back(kIcmpv6NeighbourSolicitation);
      out.push_back(0);
      PutBe16(out, 0);
      PutBe32(out, 0);  // reserved
      PutAddress(out, nd_target_);
      // Source link-layer address option, as Linux sends it.
      out.push_back(1);
      out.push_back(1);
      out.insert(out.end(), src_mac_.begin(), src_mac_.end());
      checksum_at = 2;
      break;
  }
  out.insert(out.end(), payload_.begin(), payload_.end());
  const uint32_t initial =
      pseudo_header && l3_ != L3::kRaw ? PseudoHeaderSum(src_, dst_, *protocol, out.size()) : 0;
  uint16_t checksum = InternetChecksum(out.data(), out.size(), initial);
  // UDP sends a computed zero as all ones: zero means "no checksum".
  if (l4_ == L4::kUdp && checksum == 0) checksum = 0xffff;
  StoreBe16(out.data() + checksum_at, checksum);
  return out;
}

std::vector<uint8_t> PacketBuilder::Ipv4Packet(const std::vector<uint8_t>& upper,
                                               uint8_t protocol) const {
  std::vector<uint8_t> out;
  const size_t header = 20 + ipv4_options_.size();
  out.push_back(static_cast<uint8_t>(0x40 | (header / 4)));
  out.push_back(0);  // DSCP/ECN
  PutBe16(out, static_cast<uint16_t>(header + upper.size()));
  PutBe16(out, static_cast<uint16_t>(ipv4_id_));
  PutBe16(out, ipv4_fragment_);
  out.push_back(ttl_);
  out.push_back(protocol);
  PutBe16(out, 0);
  PutAddress(out, src_);
  PutAddress(out, dst_);
  out.insert(out.end(), ipv4_options_.begin(), ipv4_options_.end());
  StoreBe16(out.data() + 10, InternetChecksum(out.data(), header));
  out.insert(out.end(), upper.begin(), upper.end());
  return out;
}

std::vector<uint8_t> PacketBuilder::Ipv6Packet(const std::vector<uint8_t>& upper,
                                               uint8_t protocol) const {
  std::vector<uint8_t> chain;
  for (size_t i = 0; i < extensions_.size(); ++i) {
    const Extension& e = extensions_[i];
    chain.push_back(i + 1 < extensions_.size() ? extensions_[i + 1].type : protocol);
    if (e.type == 44) {
      chain.push_back(0);
      PutBe16(chain, static_cast<uint16_t>((e.fragment_offset << 3) | (e.more_fragments ? 1 : 0)));
      PutBe32(chain, e.id);
    } else {
      chain.push_back(e.length_units);
      // PadN option filling the rest of the header, so that it is a valid options header.
      const size_t rest = 8u * (1u + e.length_units) - 2u;
      chain.push_back(1);
      chain.push_back(static_cast<uint8_t>(rest - 2));
      chain.insert(chain.end(), rest - 2, 0);
    }
  }
  std::vector<uint8_t> out;
  PutBe32(out, 0x60000000);
  PutBe16(out, static_cast<uint16_t>(chain.size() + upper.size()));
  out.push_back(extensions_.empty() ? protocol : extensions_.front().type);
  out.push_back(ttl_);
  PutAddress(out, src_);
  PutAddress(out, dst_);
  out.insert(out.end(), chain.begin(), chain.end());
  out.insert(out.end(), upper.begin(), upper.end());
  return out;
}

std::vector<uint8_t> PacketBuilder::ArpPacket() const {
  std::vector<uint8_t> out;
  PutBe16(out, 1);       // Ethernet
  PutBe16(out, 0x0800);  // IPv4
  out.push_back(6);
  out.push_back(4);
  PutBe16(out, arp_operation_);
  out.insert(out.end(), src_mac_.begin(), src_mac_.end());
  PutAddress(out, src_);
  const Mac target_mac = arp_operation_ == 1 ? Mac{} : dst_mac_;
  out.insert(out.end(), target_mac.begin(), target_mac.end());
  PutAddress(out, dst_);
  return out;
}

std::vector<uint8_t> PacketBuilder::Build() const {
  std::vector<uint8_t> frame(dst_mac_.begin(), dst_mac_.end());
  frame.insert(frame.end(), src_mac_.begin(), src_mac_.end());
  for (const auto& [tpid, vlan_id] : vlans_) {
    PutBe16(frame, tpid);
    PutBe16(frame, vlan_id);
  }
  std::vector<uint8_t> l3;
  uint16_t ethertype = 0;
  uint8_t protocol = 0;
  switch (l3_) {
    case L3::kNone:
      Misuse("no layer 3 chosen (ArpRequest, Ipv4, Ipv6 or RawEthertype)");
    case L3::kArp:
      ethertype = 0x0806;
      l3 = ArpPacket();
      break;
    case L3::kIpv4: {
      ethertype = 0x0800;
      const std::vector<uint8_t> upper = Transport(&protocol);
      l3 = Ipv4Packet(upper, protocol);
      break;
    }
    case L3::kIpv6: {
      ethertype = 0x86dd;
      const std::vector<uint8_t> upper = Transport(&protocol);
      l3 = Ipv6Packet(upper, protocol);
      break;
    }
    case L3::kRaw:
      ethertype = raw_ethertype_;
      l3 = payload_;
      break;
  }
  PutBe16(frame, ethertype);
  frame.insert(frame.end(), l3.begin(), l3.end());
  if (frame.size() < pad_to_) frame.resize(pad_to_, 0);
  return frame;
}

std::vector<uint8_t> Truncated(std::vector<uint8_t> frame, size_t length) {
  if (length < frame.size()) frame.resize(length);
  return frame;
}

std::vector<uint8_t> WithByte(std::vector<uint8_t> frame, size_t offset, uint8_t value) {
  if (offset >= frame.size()) Misuse("WithByte past the end of the frame");
  frame[offset] = value;
  return frame;
}

std::vector<uint8_t> WithBe16(std::vector<uint8_t> frame, size_t offset, uint16_t value) {
  if (offset + 2 > frame.size()) Misuse("WithBe16 past the end of the frame");
  StoreBe16(frame.data() + offset, value);
  return frame;
}

std::vector<uint8_t> WithBitFlipped(std::vector<uint8_t> frame, size_t bit) {
  if (bit / 8 >= frame.size()) Misuse("WithBitFlipped past the end of the frame");
  frame[bit / 8] = static_cast<uint8_t>(frame[bit / 8] ^ (0x80u >> (bit % 8)));
  return frame;
}

}  // namespace nlb::test
