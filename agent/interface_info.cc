#include "agent/interface_info.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

namespace nlb::agent {

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
      if ((it->ifa_flags & IFF_BROADCAST) != 0 && it->ifa_broadaddr != nullptr) {
        const auto* b = reinterpret_cast<const sockaddr_in*>(it->ifa_broadaddr);
        info.broadcast = IpAddress::V4(reinterpret_cast<const uint8_t*>(&b->sin_addr));
      }
    }
  }
  if (!address_found) {
    return Status::Error(ErrorCode::kNotFound, "host.dedicated_address " +
                                                   dedicated_address.ToString() +
                                                   " is not an address of interface " + name);
  }
  if (!info.broadcast.is_v4()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "interface " + name + " has no IPv4 broadcast address for " +
                             dedicated_address.ToString() + " (heartbeats are broadcast)");
  }
  return info;
}

}  // namespace nlb::agent
