// Least privilege for nlbd: before the agent sets anything up, the process keeps only the
// capabilities its work needs, for set-up and at run time alike:
//   CAP_NET_ADMIN  nftables (the diversion, the unicast egress rewrite), the TUN device and its
//                  addresses, the interface's MAC in unicast mode, sysctls, multicast filters;
//   CAP_NET_RAW    the packet capture and the ARP/NDP answers (AF_PACKET), SO_BINDTODEVICE;
//   with host.data_path bpf or auto only: CAP_BPF and CAP_PERFMON, to load the BPF data plane
//                  (docs/bpf-data-plane.md).
// Every other capability leaves the effective, permitted, inheritable and ambient sets, and the
// bounding set too when the process may change it (CAP_SETPCAP), so a program nlbd starts
// (nft, until the kernel programmer talks netlink itself) cannot regain one either.
//
// Capabilities belong to a thread, and threads inherit their creator's: dropping before the
// agent starts its data path thread is what makes the drop hold for every thread of the process.
// Files nlbd reads (config, key) and writes (/run/nlb, /var/lib/nlb) are root's own, so uid 0
// needs no CAP_DAC_OVERRIDE for them. Main thread, before any other thread exists.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace nlb::agent {

// The capability names nlbd keeps, as libcap spells them ("cap_net_admin", ...).
// bpf: the data path may be the BPF data plane.
std::vector<std::string> AgentCapabilities(bool bpf = false);

// Drops every capability but AgentCapabilities(). One the process does not hold is not gained.
// Error (kPermission) naming the capability when the kernel refuses a change.
[[nodiscard]] Status DropUnneededCapabilities(bool bpf = false);

// The process's capability sets in libcap's text form (e.g. "cap_net_admin,cap_net_raw=ep"),
// for the log.
std::string CurrentCapabilitiesText();

}  // namespace nlb::agent
