// ClusterMacBinding: makes the cluster interface receive frames sent to the cluster MAC, per mode
// (common/cluster_mac.h has the addresses, docs/design.md "Cluster MAC modes" the why):
//   multicast  the cluster MAC joins the interface's multicast filter;
//   igmp       as multicast, and the host joins 239.255.c.d there, so the kernel sends IGMP
//              reports and snooping switches forward the cluster's frames to this port;
//   unicast    the interface's own MAC becomes the cluster MAC (the old one is put back).
// In every mode the solicited-node group MAC of each IPv6 VIP joins the filter as well: the kernel
// joins those groups only for addresses on the interface itself, and the VIPs live on the TUN.
//
// Memberships are held by sockets this object keeps open (PACKET_ADD_MEMBERSHIP,
// IP_ADD_MEMBERSHIP), so the kernel drops them itself when the process dies. The unicast MAC change
// survives a crash, so the old MAC is also written to a state file in the state directory
// (StateDirectory(): not /run/nlb, which systemd empties when the service stops or restarts), named
// by network namespace and interface; Bind, and `nlbd --cleanup` (the unit's ExecStopPost), restore
// a MAC found there before anything else. Control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/cluster_mac.h"
#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

// Where state that must outlive a crash and a restart is kept: $STATE_DIRECTORY (systemd sets it
// from the unit's StateDirectory=nlb), else /var/lib/nlb. Created (mode 0700) when needed.
std::string StateDirectory();

// Crash recovery: puts back the MAC a previous run of unicast mode saved for `interface` in
// state_dir and removes the state file. Ok when there was none; true in *restored when there was.
[[nodiscard]] Status RestoreLeftoverMac(const std::string& state_dir, const std::string& interface,
                                        bool* restored);

struct ClusterMacOptions {
  std::string interface;
  ClusterMac cluster;
  uint16_t host_id = 0;  // for the masked source MAC of unicast mode
  std::vector<IpAddress> vips;
  std::string state_dir = StateDirectory();
};

class ClusterMacBinding {
 public:
  static Result<std::unique_ptr<ClusterMacBinding>> Bind(const ClusterMacOptions& options);
  // Leaves the memberships, puts the old MAC back (unicast), removes the state file.
  ~ClusterMacBinding();
  ClusterMacBinding(const ClusterMacBinding&) = delete;
  ClusterMacBinding& operator=(const ClusterMacBinding&) = delete;

  // The Ethernet source for frames the agent builds: the interface's own MAC in multicast and
  // igmp modes (a group address is no valid source), the masked source in unicast mode.
  const MacAddress& frame_source() const { return frame_source_; }
  uint32_t interface_index() const { return index_; }

 private:
  ClusterMacBinding() = default;
  std::string interface_;
  uint32_t index_ = 0;
  MacAddress frame_source_{};
  int packet_socket_ = -1;
  int igmp_socket_ = -1;
  bool mac_changed_ = false;
  MacAddress old_mac_{};
  std::string state_file_;
};

}  // namespace nlb::agent
