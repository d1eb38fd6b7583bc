// HostSet: a set of host ids 1..256 as a 256-bit bitmap, the form in which heartbeats carry a
// sender's members and the hosts it hears (32 bytes whatever the cluster size, so a 256-host view
// fits one datagram). Bit for host id h is bit 7 - ((h - 1) % 8) of byte (h - 1) / 8: the wire
// layout of docs/protocol.md. Plain value; thread-compatible.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace nlb {

inline constexpr uint16_t kMaxHostId = 256;

class HostSet {
 public:
  using Bytes = std::array<uint8_t, kMaxHostId / 8>;

  HostSet() = default;
  static HostSet FromBytes(const Bytes& bytes) {
    HostSet set;
    set.bytes_ = bytes;
    return set;
  }

  // Ids outside 1..256 are never members: Contains() says false and Add() ignores them, so a
  // caller cannot index past the bitmap.
  bool Contains(uint16_t host_id) const {
    if (host_id == 0 || host_id > kMaxHostId) return false;
    return (bytes_[(host_id - 1) / 8] >> (7 - (host_id - 1) % 8)) & 1;
  }
  void Add(uint16_t host_id) {
    if (host_id == 0 || host_id > kMaxHostId) return;
    bytes_[(host_id - 1) / 8] |= static_cast<uint8_t>(1u << (7 - (host_id - 1) % 8));
  }
  int Count() const {
    int n = 0;
    for (uint8_t b : bytes_) n += std::popcount(b);
    return n;
  }
  const Bytes& bytes() const { return bytes_; }

  friend bool operator==(const HostSet&, const HostSet&) = default;

 private:
  Bytes bytes_{};
};

}  // namespace nlb
