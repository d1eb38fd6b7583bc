#include "common/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace nlb {

IpAddress IpAddress::V4(const uint8_t* network_order_4_bytes) {
  IpAddress a;
  a.family = Family::kV4;
  std::memcpy(a.bytes.data(), network_order_4_bytes, 4);
  return a;
}

IpAddress IpAddress::V6(const uint8_t* network_order_16_bytes) {
  IpAddress a;
  a.family = Family::kV6;
  std::memcpy(a.bytes.data(), network_order_16_bytes, 16);
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; addresses are short, so a stack buffer suffices.
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  // inet_pton would stop at an embedded NUL and accept "198.18.0.100\0garbage" as its prefix.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
  if (inet_pton(AF_INET, buf, raw) == 1) return V4(raw);
  if (inet_pton(AF_INET6, buf, raw) == 1) return V6(raw);
  return std::nullopt;
}

IpAddress IpAddress::Masked(uint32_t prefix_bits) const {
  IpAddress out = *this;
  const uint32_t total = size() * 8;
  for (uint32_t bit = prefix_bits; bit < total; ++bit) {
    out.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return out;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) return inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
  if (is_v6()) return inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  return "none";
}

}  // namespace nlb
