#include "common/flow_hash.h"

#include <cstring>

namespace nlb {
namespace {

constexpr uint32_t kJhashInitval = 0xdeadbeef;

inline uint32_t Rol32(uint32_t word, unsigned shift) {
  return (word << shift) | (word >> ((-shift) & 31));
}

// Words are read little-endian, as the kernel does on the x86 and arm64 hosts it runs on; the
// tail below composes bytes the same way, so the result is defined independently of the CPU.
inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

inline void Mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c; a ^= Rol32(c, 4);  c += b;
  b -= a; b ^= Rol32(a, 6);  a += c;
  c -= b; c ^= Rol32(b, 8);  b += a;
  a -= c; a ^= Rol32(c, 16); c += b;
  b -= a; b ^= Rol32(a, 19); a += c;
  c -= b; c ^= Rol32(b, 4);  b += a;
}

inline void Final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b; c -= Rol32(b, 14);
  a ^= c; a -= Rol32(c, 11);
  b ^= a; b -= Rol32(a, 25);
  c ^= b; c -= Rol32(b, 16);
  a ^= c; a -= Rol32(c, 4);
  b ^= a; b -= Rol32(a, 14);
  c ^= b; c -= Rol32(b, 24);
}

}  // namespace

uint32_t Jhash(const uint8_t* key, uint32_t length, uint32_t initval) {
  uint32_t a = kJhashInitval + length + initval;
  uint32_t b = a;
  uint32_t c = a;
  while (length > 12) {
    a += LoadLe32(key);
    b += LoadLe32(key + 4);
    c += LoadLe32(key + 8);
    Mix(a, b, c);
    length -= 12;
    key += 12;
  }
  switch (length) {
    case 12: c += static_cast<uint32_t>(key[11]) << 24; [[fallthrough]];
    case 11: c += static_cast<uint32_t>(key[10]) << 16; [[fallthrough]];
    case 10: c += static_cast<uint32_t>(key[9]) << 8; [[fallthrough]];
    case 9: c += key[8]; [[fallthrough]];
    case 8: b += static_cast<uint32_t>(key[7]) << 24; [[fallthrough]];
    case 7: b += static_cast<uint32_t>(key[6]) << 16; [[fallthrough]];
    case 6: b += static_cast<uint32_t>(key[5]) << 8; [[fallthrough]];
    case 5: b += key[4]; [[fallthrough]];
    case 4: a += static_cast<uint32_t>(key[3]) << 24; [[fallthrough]];
    case 3: a += static_cast<uint32_t>(key[2]) << 16; [[fallthrough]];
    case 2: a += static_cast<uint32_t>(key[1]) << 8; [[fallthrough]];
    case 1:
      a += key[0];
      Final(a, b, c);
      break;
    case 0:
      break;
  }
  return c;
}

uint32_t FlowHash(const IpAddress& source, bool has_port, uint16_t source_port, Affinity affinity,
                  uint8_t ipv6_prefix) {
  // Largest key: 16 address bytes + one 4-byte port register.
  uint8_t key[20];
  const uint32_t address_size = source.size();
  std::memcpy(key, source.bytes.data(), address_size);
  uint32_t length = address_size;

  if (affinity == Affinity::kNetwork) {
    // Whole bytes at a time: this runs per packet, and a bit-by-bit loop over an IPv6 /64 is
    // 64 iterations. Same result: bits from `prefix` on are cleared.
    const uint32_t prefix = source.is_v4() ? 24u : ipv6_prefix;
    if (prefix < address_size * 8) {
      const uint32_t partial = prefix / 8;
      key[partial] &= static_cast<uint8_t>(0xff00u >> (prefix % 8));
      std::memset(key + partial + 1, 0, address_size - partial - 1);
    }
  } else if (affinity == Affinity::kNone && has_port) {
    key[length + 0] = static_cast<uint8_t>(source_port >> 8);
    key[length + 1] = static_cast<uint8_t>(source_port & 0xff);
    key[length + 2] = 0;
    key[length + 3] = 0;
    length += 4;
  }
  return Jhash(key, length, kFlowHashSeed);
}

}  // namespace nlb
