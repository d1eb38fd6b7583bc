// RandomFrames: a seeded stream of Ethernet frames for differential tests of the data path
// (tests/agent/bpf_agreement_test.cc holds the BPF program to Decide() with it): well-formed
// frames aimed at the decision table's VIPs, rules and ports (IPv4/IPv6, TCP/UDP/ICMP, ARP,
// neighbour solicitations, fragments, extension headers, VLAN tags), the same with bytes
// flipped, cut short or extended, plain noise behind a real ethertype, and IP frames broken on
// purpose where parsers go wrong: cut inside a header, a bad IPv4 header length, a bogus IPv6
// extension header chain, odd fragment offsets. Each frame's kind is named (last_kind), so a test
// can show what it ran. Deterministic for a seed. Single-threaded value type.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace nlb::test {

class RandomFrames {
 public:
  enum class Kind : uint8_t {
    kWellFormed = 0,
    kBytesChanged,         // a few of the first 96 bytes changed
    kCutShort,             // cut anywhere past the Ethernet header
    kTrailing,             // bytes past the IP packet (padding or garbage)
    kNoise,                // random bytes behind the Ethernet header
    kTruncatedHeader,      // IP frame cut inside its IP, extension or L4 header
    kBadIpv4HeaderLength,  // IHL below 5, or claiming options the frame does not hold
    kBadExtensionChain,    // IPv6: a header running past the packet, too many, or a loop
    kFragmentOffset,       // odd offsets and MF bits, also on first pieces and tiny ones
    kCount,
  };
  static std::string_view KindName(Kind kind);  // "bad_ipv4_header_length", ...

  // vips: addresses the frames are mostly sent to; ports: destination ports worth hitting.
  RandomFrames(uint32_t seed, std::vector<IpAddress> vips, std::vector<uint16_t> ports);
  // Frames are at least 14 bytes (what a NIC delivers) and at most max_size.
  std::vector<uint8_t> Next(size_t max_size = 1514);
  // What the frame Next() returned last is.
  Kind last_kind() const { return last_kind_; }

 private:
  std::vector<uint8_t> WellFormed();
  // REQUIRES: kind is kTruncatedHeader or later (tests/support/random_malformed.cc).
  std::vector<uint8_t> Malformed(Kind kind);
  // A TCP or UDP frame, tagged or not, with *l3 at its IP header; IPv6 with `extensions`
  // hop-by-hop/destination options headers, and a fragment header when `fragment`.
  std::vector<uint8_t> IpFrame(bool v6, uint32_t extensions, bool fragment, size_t* l3);
  IpAddress Source(bool v6);
  IpAddress Destination(bool v6);

  std::mt19937 rng_;
  std::vector<IpAddress> vips_;
  std::vector<uint16_t> ports_;
  Kind last_kind_ = Kind::kWellFormed;
};

}  // namespace nlb::test
