// HMAC-SHA256 and a constant-time tag check: the one authentication primitive of the cluster
// protocol (heartbeats, moving reports) and of the control PSK derivation. Pure; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace nlb {

using Sha256Tag = std::array<uint8_t, 32>;

Sha256Tag HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);
// True when the first 32 bytes of `received` equal `expected`, compared in constant time.
// REQUIRES: received.size() >= 32
bool TagMatches(const Sha256Tag& expected, std::span<const uint8_t> received);

}  // namespace nlb
