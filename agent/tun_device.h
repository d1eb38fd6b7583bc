// TunDevice: the door into the local IP stack for owned packets. A TUN device (no packet
// information header) that holds the VIPs (/32 and /128, no duplicate address detection), so that
// an IP packet written to it is received by the local stack as addressed to this host, and the
// replies leave through the ordinary route with the VIP as their source (docs/design.md "Linux
// facts").
//
// Set-up also makes the kernel leave the VIPs to the agent on the cluster interface:
//   net/ipv4/conf/<tun>/rp_filter = 0      packets from clients arrive here but are routed back
//                                          through the cluster interface
//   net/ipv4/conf/<cluster>/arp_ignore = 1 never answer ARP for a VIP (it is a local address);
//   net/ipv4/conf/<cluster>/arp_announce = 2  never use a VIP as the sender of an ARP request.
// The device disappears with its addresses when the descriptor closes (also after a crash); the
// two cluster-interface values are put back by destruction.
//
// Create and destruction: control thread. Write: the data path thread (one writer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/kernel_setting.h"
#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

struct TunOptions {
  std::string name = "nlb0";
  std::string cluster_interface;  // where arp_ignore/arp_announce are set
  std::vector<IpAddress> vips;
};

class TunDevice {
 public:
  // REQUIRES: options.name is 1..15 characters; every VIP is IPv4 or IPv6.
  // Fails with kAlreadyExists when another process holds a device of that name.
  static Result<std::unique_ptr<TunDevice>> Create(const TunOptions& options);
  ~TunDevice();
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  // Hands one IP packet (no link-layer header) to the local stack. One packet per call: TUN has
  // no batched write, and the capture's frame is only valid during its callback, so the data path
  // writes each packet as it decides it. Returns false (errno kept) when the kernel refused it.
  // Never blocks, allocates or locks.
  bool Write(std::span<const uint8_t> ip_packet) const;

  const std::string& name() const { return name_; }
  uint32_t index() const { return index_; }

 private:
  TunDevice(int fd, std::string name, uint32_t index)
      : fd_(fd), name_(std::move(name)), index_(index) {}
  int fd_;
  std::string name_;
  uint32_t index_;
  std::vector<KernelSetting> settings_;
};

}  // namespace nlb::agent
