#include "tests/support/random_frames.h"

#include <algorithm>
#include <utility>

#include "tests/support/packet_builder.h"

namespace nlb::test {

RandomFrames::RandomFrames(uint32_t seed, std::vector<IpAddress> vips, std::vector<uint16_t> ports)
    : rng_(seed), vips_(std::move(vips)), ports_(std::move(ports)) {}

IpAddress RandomFrames::Source(bool v6) {
  IpAddress a = Ip(v6 ? "2001:2::" : "198.18.0.0");
  for (uint32_t b = v6 ? 4 : 2; b < a.size(); ++b) a.bytes[b] = static_cast<uint8_t>(rng_());
  return a;
}

// Mostly a VIP of the family (the interesting path), sometimes any address.
IpAddress RandomFrames::Destination(bool v6) {
  std::vector<const IpAddress*> same;
  for (const IpAddress& vip : vips_) {
    if (vip.is_v6() == v6) same.push_back(&vip);
  }
  if (!same.empty() && rng_() % 8 != 0) return *same[rng_() % same.size()];
  return Source(v6);
}

std::vector<uint8_t> RandomFrames::WellFormed() {
  PacketBuilder b;
  const uint32_t tags = rng_() % 10 == 0 ? 1 + rng_() % 2 : 0;
  for (uint32_t t = 0; t < tags; ++t) {
    b.Vlan(static_cast<uint16_t>(rng_() % 4096), rng_() % 2 ? 0x8100 : 0x88a8);
  }
  const uint32_t kind = rng_() % 20;
  if (kind == 0) {
    const IpAddress target = Destination(false);
    return rng_() % 2 ? b.ArpRequest(Source(false), target).Build()
                      : b.ArpReply(Source(false), target).Build();
  }
  if (kind == 1) return b.RawEthertype(static_cast<uint16_t>(rng_())).Payload(rng_() % 64).Build();
  const bool v6 = rng_() % 3 == 0;
  const IpAddress src = Source(v6);
  if (v6 && kind == 2) {
    const IpAddress target = Destination(true);
    return b.Ipv6(src, SolicitedNodeMulticast(target)).NeighbourSolicitation(target).Build();
  }
  const IpAddress dst = Destination(v6);
  if (v6) {
    b.Ipv6(src, dst);
    const uint32_t extensions = rng_() % 4 == 0 ? rng_() % 4 : 0;
    for (uint32_t e = 0; e < extensions; ++e) {
      const uint8_t types[] = {0, 43, 60};
      b.Ipv6Extension(types[rng_() % 3], static_cast<uint8_t>(rng_() % 3));
    }
  } else {
    b.Ipv4(src, dst);
    if (rng_() % 10 == 0) b.Ipv4Options(std::vector<uint8_t>(1 + rng_() % 12, 1));
  }
  const uint16_t dst_port =
      rng_() % 4 == 0 ? static_cast<uint16_t>(rng_()) : ports_[rng_() % ports_.size()];
  const auto src_port = static_cast<uint16_t>(rng_());
  switch (rng_() % 8) {
    case 0:
      return b.Udp(src_port, dst_port).Payload(rng_() % 64).Build();
    case 1:
      return b.Fragment(0, true).Udp(src_port, dst_port).Payload(16 + rng_() % 64).Build();
    case 2:
      return b.Fragment(static_cast<uint16_t>(8 * (1 + rng_() % 200)), rng_() % 2 == 0)
          .Protocol(rng_() % 3 == 0 ? kIpProtoIcmp : (rng_() % 2 ? kIpProtoTcp : kIpProtoUdp))
          .Payload(8 + rng_() % 64)
          .Build();
    case 3:
      return (v6 ? b.Icmpv6Echo() : b.IcmpEcho()).Build();
    case 4:
      return b.Protocol(static_cast<uint8_t>(rng_())).Payload(rng_() % 32).Build();
    default: {
      const uint8_t flags[] = {kTcpSyn, kTcpAck, kTcpSyn | kTcpAck, kTcpFin | kTcpAck, kTcpRst};
      return b.Tcp(src_port, dst_port, flags[rng_() % 5]).Payload(rng_() % 64).Build();
    }
  }
}

std::string_view RandomFrames::KindName(Kind kind) {
  switch (kind) {
    case Kind::kWellFormed:
      return "well_formed";
    case Kind::kBytesChanged:
      return "bytes_changed";
    case Kind::kCutShort:
      return "cut_short";
    case Kind::kTrailing:
      return "trailing_bytes";
    case Kind::kNoise:
      return "noise";
    case Kind::kTruncatedHeader:
      return "truncated_header";
    case Kind::kBadIpv4HeaderLength:
      return "bad_ipv4_header_length";
    case Kind::kBadExtensionChain:
      return "bad_extension_chain";
    case Kind::kFragmentOffset:
      return "fragment_offset";
    case Kind::kCount:
      break;
  }
  return "?";
}

std::vector<uint8_t> RandomFrames::Next(size_t max_size) {
  // Half as built, the other half broken in one of eight ways (the last four aimed at headers).
  const uint32_t choice = rng_() % 16;
  if (choice >= 12) {
    last_kind_ = static_cast<Kind>(static_cast<uint32_t>(Kind::kTruncatedHeader) + choice - 12);
    std::vector<uint8_t> frame = Malformed(last_kind_);
    if (frame.size() > max_size) frame.resize(max_size);
    return frame;
  }
  std::vector<uint8_t> frame = WellFormed();
  last_kind_ = Kind::kWellFormed;
  switch (choice) {
    case 8: {  // a few bytes of the headers changed
      last_kind_ = Kind::kBytesChanged;
      const uint32_t changes = 1 + rng_() % 4;
      for (uint32_t i = 0; i < changes; ++i) {
        const size_t at = rng_() % std::min<size_t>(frame.size(), 96);
        frame[at] = rng_() % 2 ? static_cast<uint8_t>(rng_()) : frame[at] ^ (1u << (rng_() % 8));
      }
      break;
    }
    case 9:
      last_kind_ = Kind::kCutShort;
      frame.resize(14 + rng_() % (frame.size() - 13));
      break;
    case 10:
    case 11:  // trailing bytes (Ethernet padding, or garbage past the IP length), or noise
      last_kind_ = Kind::kTrailing;
      frame.resize(frame.size() + rng_() % 64, static_cast<uint8_t>(rng_()));
      if (rng_() % 4 == 0) {
        last_kind_ = Kind::kNoise;
        for (size_t i = 14; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(rng_());
      }
      break;
    default:
      break;
  }
  if (frame.size() > max_size) frame.resize(max_size);
  return frame;
}

}  // namespace nlb::test
