// ControlPsk: the pre-shared key that authenticates nlbctl to nlbd's remote control channel.
//
// Derived, not stored: PSK = HMAC-SHA256(cluster key file bytes, "nlb control v1"). Every host
// already holds the cluster key, so `nlbctl keygen` plus copying one file sets up both the
// heartbeats and remote control, and the heartbeat HMAC key is never used directly as a TLS key.
// Part of the control protocol (docs/control.md): both ends must derive the same bytes.
// Pure; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace nlb {

inline constexpr std::string_view kControlPskLabel = "nlb control v1";
// The TLS 1.3 PSK identity both ends name the key by; a different identity is refused.
inline constexpr std::string_view kControlPskIdentity = "nlb-control-v1";

using ControlPsk = std::array<uint8_t, 32>;

// cluster_key: the key file's bytes exactly as ReadClusterKey returns them.
ControlPsk DeriveControlPsk(std::string_view cluster_key);

}  // namespace nlb
