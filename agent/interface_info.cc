#include "agent/interface_info.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/socket.h>

#include <bit>
#include <cstring>
#include <memory>

namespace nlb::agent {

Result<IpAddress> DirectedBroadcast(const IpAddress& address, uint8_t prefix_length) {
  if (prefix_length >= 31) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "host.dedicated_address " + address.ToString() + "/" +
                             std::to_string(prefix_length) +
                             " has no broadcast address for heartbeats: give it a prefix of /30 "
                             "or shorter, shared by every host of the cluster");
  }
  IpAddress broadcast = address;
  for (int bit = prefix_length; bit < 32; ++bit) broadcast.bytes[bit / 8] |= 0x80 >> (bit % 8);
  return broadcast;
}

Result<InterfaceInfo> LookupInterface(const std::string& name, const IpAddress& dedicated_address) {
  InterfaceInfo info;
  info.name = name;
  info.index = if_nametoindex(name.c_str());
  if (info.index == 0) {
    return Status::Error(ErrorCode::kNotFound,
                         "interface " + name + " does not exist (host.interface)");
  }
  if (!dedicated_address.is_v4()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "host.dedicated_address " + dedicated_address.ToString() +
                             ": heartbeats need an IPv4 dedicated address");
  }
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) {
    return Status::Error(ErrorCode::kUnavailable, std::string("getifaddrs: ") + strerror(errno));
  }
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> list(raw, freeifaddrs);
  bool address_found = false;
  for (ifaddrs* it = raw; it != nullptr; it = it->ifa_next) {
    if (it->ifa_name == nullptr || name != it->ifa_name || it->ifa_addr == nullptr) continue;
    info.up = (it->ifa_flags & IFF_UP) != 0;
    if (it->ifa_addr->sa_family == AF_PACKET) {
      const auto* ll = reinterpret_cast<const sockaddr_ll*>(it->ifa_addr);
      if (ll->sll_halen == 6) std::memcpy(info.mac.data(), ll->sll_addr, 6);
    } else if (it->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
      const IpAddress address = IpAddress::V4(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
      if (address != dedicated_address) continue;
      address_found = true;
      if (it->ifa_netmask != nullptr) {
        const auto* mask = reinterpret_cast<const sockaddr_in*>(it->ifa_netmask);
        info.prefix_length = static_cast<uint8_t>(std::popcount(mask->sin_addr.s_addr));
      }
    }
  }
  if (!address_found) {
    return Status::Error(ErrorCode::kNotFound, "host.dedicated_address " +
                                                   dedicated_address.ToString() +
                                                   " is not an address of interface " + name);
  }
  Result<IpAddress> broadcast = DirectedBroadcast(dedicated_address, info.prefix_length);
  if (!broadcast.ok()) {
    return Status::Error(broadcast.status().code(),
                         "interface " + name + ": " + broadcast.status().message());
  }
  info.broadcast = broadcast.value();
  return info;
}

}  // namespace nlb::agent
