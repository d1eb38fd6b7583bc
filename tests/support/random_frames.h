// RandomFrames: a seeded stream of Ethernet frames for differential tests of the data path
// (tests/agent/bpf_agreement_test.cc holds the BPF program to Decide() with it): well-formed
// frames aimed at the decision table's VIPs, rules and ports (IPv4/IPv6, TCP/UDP/ICMP, ARP,
// neighbour solicitations, fragments, extension headers, VLAN tags), the same with bytes
// flipped, cut short or extended, and plain noise behind a real ethertype. Deterministic for a
// seed. Single-threaded value type.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/ip_address.h"

namespace nlb::test {

class RandomFrames {
 public:
  // vips: addresses the frames are mostly sent to; ports: destination ports worth hitting.
  RandomFrames(uint32_t seed, std::vector<IpAddress> vips, std::vector<uint16_t> ports);
  // Frames are at least 14 bytes (what a NIC delivers) and at most max_size.
  std::vector<uint8_t> Next(size_t max_size = 1514);

 private:
  std::vector<uint8_t> WellFormed();
  IpAddress Source(bool v6);
  IpAddress Destination(bool v6);

  std::mt19937 rng_;
  std::vector<IpAddress> vips_;
  std::vector<uint16_t> ports_;
};

}  // namespace nlb::test
