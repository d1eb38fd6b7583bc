// IpAddress: an IPv4 or IPv6 address as plain bytes in network order, cheap to copy and compare.
// Used by the packet parser, port rules, configuration and heartbeats. Thread-compatible value.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace nlb {

struct IpAddress {
  enum class Family : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

  Family family = Family::kNone;
  // IPv4 uses bytes[0..3]; the rest stay zero so that comparison and hashing are well defined.
  std::array<uint8_t, 16> bytes{};

  static IpAddress V4(const uint8_t* network_order_4_bytes);
  static IpAddress V6(const uint8_t* network_order_16_bytes);
  // Accepts dotted quad or RFC 4291 text ("2001:2::1"); nullopt on anything else, including text
  // with an embedded NUL (which inet_pton would have cut short).
  static std::optional<IpAddress> Parse(std::string_view text);

  bool is_v4() const { return family == Family::kV4; }
  bool is_v6() const { return family == Family::kV6; }
  // 4, 16, or 0 for kNone.
  uint32_t size() const { return is_v4() ? 4 : (is_v6() ? 16 : 0); }
  // Keeps the first prefix_bits bits, zeroes the rest. REQUIRES: prefix_bits <= 8 * size().
  IpAddress Masked(uint32_t prefix_bits) const;
  std::string ToString() const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  // Same meaning as the defaulted comparison (family and all 16 bytes), written as two 64-bit
  // compares because the data path compares addresses per packet and the default calls memcmp.
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    uint64_t a_words[2];
    uint64_t b_words[2];
    std::memcpy(a_words, a.bytes.data(), sizeof(a_words));
    std::memcpy(b_words, b.bytes.data(), sizeof(b_words));
    return a.family == b.family && ((a_words[0] ^ b_words[0]) | (a_words[1] ^ b_words[1])) == 0;
  }
};

}  // namespace nlb
