// InterfaceInfo: what the agent needs to know about the cluster interface (index, MAC, the IPv4
// subnet broadcast address heartbeats go to). Read once at start; no state kept.
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
  // The subnet broadcast of the interface address that equals `address`.
  IpAddress broadcast;
};

// REQUIRES: dedicated_address is IPv4 (heartbeats use the subnet broadcast).
// Fails naming the interface when it does not exist, or when dedicated_address is not one of its
// addresses.
Result<InterfaceInfo> LookupInterface(const std::string& name, const IpAddress& dedicated_address);

}  // namespace nlb::agent
