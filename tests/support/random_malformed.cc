// RandomFrames' frames broken on purpose where parsers go wrong (the kinds from kTruncatedHeader
// on): each starts as a well-formed IP frame aimed at a VIP and has one header field or length
// made wrong, so that the frame reaches the code that must notice.
#include <cstdlib>

#include "tests/support/packet_builder.h"
#include "tests/support/random_frames.h"

namespace nlb::test {
namespace {

constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragmentHeader = 44;
constexpr uint8_t kDestinationOptions = 60;

}  // namespace

std::vector<uint8_t> RandomFrames::IpFrame(bool v6, uint32_t extensions, bool fragment,
                                           size_t* l3) {
  PacketBuilder b;
  const uint32_t tags = rng_() % 8 == 0 ? 1 : 0;
  if (tags != 0) b.Vlan(static_cast<uint16_t>(rng_() % 4096));
  *l3 = 14 + 4 * tags;
  const IpAddress src = Source(v6);
  const IpAddress dst = Destination(v6);
  if (v6) {
    b.Ipv6(src, dst);
    for (uint32_t e = 0; e < extensions; ++e) {
      b.Ipv6Extension(e == 0 ? kHopByHop : kDestinationOptions, static_cast<uint8_t>(rng_() % 2));
    }
  } else {
    b.Ipv4(src, dst);
    if (rng_() % 4 == 0) b.Ipv4Options(std::vector<uint8_t>(4 * (1 + rng_() % 3), 1));
  }
  if (fragment) b.Fragment(0, true);
  const auto src_port = static_cast<uint16_t>(rng_());
  const uint16_t dst_port = ports_[rng_() % ports_.size()];
  if (rng_() % 2 == 0) {
    b.Tcp(src_port, dst_port, rng_() % 2 ? kTcpSyn : kTcpAck);
  } else {
    b.Udp(src_port, dst_port);
  }
  return b.Payload(rng_() % 48).Build();
}

std::vector<uint8_t> RandomFrames::Malformed(Kind kind) {
  size_t l3 = 0;
  switch (kind) {
    case Kind::kTruncatedHeader: {
      // Cut at any byte from the IP header's start to just past the L4 header.
      const bool v6 = rng_() % 2 == 0;
      std::vector<uint8_t> frame = IpFrame(v6, v6 ? rng_() % 3 : 0, rng_() % 4 == 0, &l3);
      const size_t headers = frame.size() - l3;
      frame.resize(l3 + rng_() % std::min<size_t>(headers, (v6 ? 40 : 24) + 64));
      return frame;
    }
    case Kind::kBadIpv4HeaderLength: {
      std::vector<uint8_t> frame = IpFrame(false, 0, rng_() % 4 == 0, &l3);
      // 0-4 is below the minimum; 6-15 claims options: past the frame or over the L4 header.
      const uint32_t ihl = rng_() % 2 ? rng_() % 5 : 6 + rng_() % 10;
      frame[l3] = static_cast<uint8_t>(0x40 | ihl);
      return frame;
    }
    case Kind::kBadExtensionChain: {
      const uint32_t extensions = 1 + rng_() % 3;
      std::vector<uint8_t> frame;
      switch (rng_() % 4) {
        case 0: {  // one header's length runs past the packet (or just fits, or lands mid-L4)
          frame = IpFrame(true, extensions, false, &l3);
          size_t at = l3 + 40;
          for (uint32_t e = rng_() % extensions; e > 0; --e) at += 8 * (1 + frame[at + 1]);
          frame[at + 1] = static_cast<uint8_t>(rng_());
          break;
        }
        case 1: {  // more headers than the parser follows (8), each well formed
          PacketBuilder b;
          b.Ipv6(Source(true), Destination(true));
          const uint32_t count = 6 + rng_() % 6;
          for (uint32_t e = 0; e < count; ++e) b.Ipv6Extension(kDestinationOptions);
          l3 = 14;
          frame = b.Udp(static_cast<uint16_t>(rng_()), ports_[rng_() % ports_.size()])
                      .Payload(rng_() % 32)
                      .Build();
          break;
        }
        case 2: {  // the last header names another extension header: the chain runs into L4
          frame = IpFrame(true, extensions, false, &l3);
          size_t at = l3 + 40;
          for (uint32_t e = 1; e < extensions; ++e) at += 8 * (1 + frame[at + 1]);
          const uint8_t next[] = {kHopByHop, kRouting, kFragmentHeader, kDestinationOptions};
          frame[at] = next[rng_() % 4];
          break;
        }
        default: {  // the IPv6 header or a fragment header names an extension that is not there
          frame = IpFrame(true, 0, rng_() % 2 == 0, &l3);
          const uint8_t next[] = {kHopByHop, kRouting, kDestinationOptions, kFragmentHeader};
          frame[l3 + 6] = next[rng_() % 4];
          if (rng_() % 2 == 0) frame.resize(l3 + 40 + rng_() % 8);
          break;
        }
      }
      return frame;
    }
    case Kind::kFragmentOffset: {
      const bool v6 = rng_() % 2 == 0;
      std::vector<uint8_t> frame = IpFrame(v6, v6 ? rng_() % 2 : 0, true, &l3);
      // Offsets that a parser may take for the first piece or not: 0, one unit, any; MF or not.
      const uint32_t choice = rng_() % 3;
      const uint16_t units = choice == 0   ? 0
                             : choice == 1 ? 1
                                           : static_cast<uint16_t>(rng_() % 8192);
      const bool more = rng_() % 2 == 0;
      if (v6) {
        // The fragment header follows the hop-by-hop header, when IpFrame added one.
        size_t at = l3 + 40;
        if (frame[l3 + 6] != kFragmentHeader) at += 8 * (1 + frame[at + 1]);
        const uint16_t field = static_cast<uint16_t>(units << 3 | (more ? 1 : 0));
        frame[at + 2] = static_cast<uint8_t>(field >> 8);
        frame[at + 3] = static_cast<uint8_t>(field);
      } else {
        const uint16_t field = static_cast<uint16_t>((more ? 0x2000 : 0) | units);
        frame[l3 + 6] = static_cast<uint8_t>(field >> 8);
        frame[l3 + 7] = static_cast<uint8_t>(field);
      }
      return frame;
    }
    default:
      std::abort();  // a bug in RandomFrames::Next
  }
}

}  // namespace nlb::test
