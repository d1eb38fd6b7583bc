// InterfaceInfo: what the agent needs to know about the cluster interface (index, MAC, the IPv4
// subnet broadcast address heartbeats go to). Read once at start; no state kept.
//
// The broadcast is computed from the dedicated address and its prefix (address | ~mask), never
// taken from the interface's configured broadcast: for an address added without one, glibc's
// getifaddrs reports the address itself, and heartbeats sent there reach nobody but their sender
// (each host then converges alone). The kernel routes the computed address as a broadcast for
// every prefix up to /30 whether or not one was configured.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

struct InterfaceInfo {
  std::string name;
  uint32_t index = 0;
  std::array<uint8_t, 6> mac{};
  bool up = false;
  // The subnet broadcast of the interface address that equals the dedicated address.
  IpAddress broadcast;
  uint8_t prefix_length = 0;
};

// The directed broadcast of address/prefix_length, or an error naming why there is none (a /31
// or /32 has no broadcast address). REQUIRES: address is IPv4.
Result<IpAddress> DirectedBroadcast(const IpAddress& address, uint8_t prefix_length);

// REQUIRES: dedicated_address is IPv4 (heartbeats use the subnet broadcast).
// Fails naming the interface when it does not exist, when dedicated_address is not one of its
// addresses, or when that address's prefix leaves no broadcast address for heartbeats.
Result<InterfaceInfo> LookupInterface(const std::string& name, const IpAddress& dedicated_address);

}  // namespace nlb::agent
