#include "agent/cluster_mac.h"

#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>

#include "agent/log.h"

namespace nlb::agent {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<MacAddress> ReadMac(const std::string& interface) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::Error(ErrorCode::kUnavailable, Errno("socket"));
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  const int rc = ioctl(s, SIOCGIFHWADDR, &request);
  close(s);
  if (rc != 0) return Status::Error(ErrorCode::kNotFound, Errno("reading the MAC of " + interface));
  MacAddress mac;
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, 6);
  return mac;
}

Status SetFlags(int s, ifreq* request, bool up) {
  if (ioctl(s, SIOCGIFFLAGS, request) != 0) return Status::Error(ErrorCode::kUnavailable, "flags");
  if (up) {
    request->ifr_flags = static_cast<short>(request->ifr_flags | IFF_UP);
  } else {
    request->ifr_flags = static_cast<short>(request->ifr_flags & ~IFF_UP);
  }
  if (ioctl(s, SIOCSIFFLAGS, request) != 0) return Status::Error(ErrorCode::kUnavailable, "flags");
  return Status::Ok();
}

// Some drivers refuse a new MAC while up (EBUSY): then the interface goes down for the change.
Status WriteMac(const std::string& interface, const MacAddress& mac) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::Error(ErrorCode::kUnavailable, Errno("socket"));
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  request.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(request.ifr_hwaddr.sa_data, mac.data(), 6);
  int rc = ioctl(s, SIOCSIFHWADDR, &request);
  if (rc != 0 && errno == EBUSY) {
    ifreq flags{};
    std::strncpy(flags.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    if (SetFlags(s, &flags, false).ok()) {
      rc = ioctl(s, SIOCSIFHWADDR, &request);
      const int saved = errno;
      (void)SetFlags(s, &flags, true);
      errno = saved;
    }
  }
  const int saved = errno;
  close(s);
  errno = saved;
  if (rc != 0) {
    return Status::Error(ErrorCode::kUnavailable,
                         Errno("setting the MAC of " + interface + " to " + FormatMac(mac)));
  }
  return Status::Ok();
}

// Names the state file by network namespace too: namespaces on one machine share /run.
std::string StateFile(const std::string& dir, const std::string& interface) {
  struct stat ns {};
  const unsigned long long inode = stat("/proc/self/ns/net", &ns) == 0 ? ns.st_ino : 0;
  return dir + "/mac-" + std::to_string(inode) + "-" + interface;
}

bool ParseMac(const std::string& text, MacAddress* mac) {
  unsigned b[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) !=
      6) {
    return false;
  }
  for (int i = 0; i < 6; ++i) (*mac)[i] = static_cast<uint8_t>(b[i]);
  return true;
}

Status AddMembership(int s, uint32_t index, const MacAddress& mac) {
  packet_mreq membership{};
  membership.mr_ifindex = static_cast<int>(index);
  membership.mr_type = PACKET_MR_MULTICAST;
  membership.mr_alen = 6;
  std::memcpy(membership.mr_address, mac.data(), 6);
  if (setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &membership, sizeof(membership)) != 0) {
    return Status::Error(ErrorCode::kUnavailable, Errno("joining MAC " + FormatMac(mac)));
  }
  return Status::Ok();
}

}  // namespace

std::string StateDirectory() {
  const char* systemd = std::getenv("STATE_DIRECTORY");
  // systemd lists several directories separated by ':' when a unit names several; nlbd's names one.
  if (systemd != nullptr && systemd[0] == '/') {
    const std::string_view dirs(systemd);
    return std::string(dirs.substr(0, dirs.find(':')));
  }
  return "/var/lib/nlb";
}

Status RestoreLeftoverMac(const std::string& state_dir, const std::string& interface,
                          bool* restored) {
  *restored = false;
  const std::string state_file = StateFile(state_dir, interface);
  std::ifstream in(state_file);
  std::string text;
  MacAddress leftover;
  if (in >> text && ParseMac(text, &leftover)) {
    if (Status s = WriteMac(interface, leftover); !s.ok()) return s;
    LogNotice("cluster-mac",
              "restored MAC " + text + " of " + interface + " left by a previous run");
    *restored = true;
  }
  std::remove(state_file.c_str());
  return Status::Ok();
}

Result<std::unique_ptr<ClusterMacBinding>> ClusterMacBinding::Bind(
    const ClusterMacOptions& options) {
  std::unique_ptr<ClusterMacBinding> binding(new ClusterMacBinding());
  binding->interface_ = options.interface;
  binding->index_ = if_nametoindex(options.interface.c_str());
  if (binding->index_ == 0) {
    return Status::Error(ErrorCode::kNotFound,
                         "interface " + options.interface + " does not exist (host.interface)");
  }
  binding->state_file_ = StateFile(options.state_dir, options.interface);

  // Crash recovery: a previous run changed the MAC and never put it back.
  bool restored = false;
  if (Status s = RestoreLeftoverMac(options.state_dir, options.interface, &restored); !s.ok()) {
    return s;
  }

  auto own = ReadMac(options.interface);
  if (!own.ok()) return own.status();
  binding->frame_source_ = own.value();

  binding->packet_socket_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (binding->packet_socket_ < 0) {
    return Status::Error(ErrorCode::kPermission, Errno("packet socket"));
  }
  const ClusterMac& cluster = options.cluster;
  if (cluster.is_group_address()) {
    if (Status s = AddMembership(binding->packet_socket_, binding->index_, cluster.mac); !s.ok()) {
      return s;
    }
  }
  for (const IpAddress& vip : options.vips) {
    if (!vip.is_v6()) continue;
    const MacAddress group = Ipv6MulticastMac(SolicitedNodeGroup(vip));
    if (Status s = AddMembership(binding->packet_socket_, binding->index_, group); !s.ok()) {
      return s;
    }
  }

  if (cluster.mode == MacMode::kIgmp) {
    binding->igmp_socket_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (binding->igmp_socket_ < 0) return Status::Error(ErrorCode::kUnavailable, Errno("socket"));
    ip_mreqn join{};
    std::memcpy(&join.imr_multiaddr, cluster.igmp_group.bytes.data(), 4);
    join.imr_ifindex = static_cast<int>(binding->index_);
    if (setsockopt(binding->igmp_socket_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof(join)) !=
        0) {
      return Status::Error(
          ErrorCode::kUnavailable,
          Errno("joining " + cluster.igmp_group.ToString() + " on " + options.interface));
    }
  }

  if (cluster.mode == MacMode::kUnicast) {
    mkdir(options.state_dir.c_str(), 0700);
    {
      std::ofstream out(binding->state_file_);
      out << FormatMac(binding->frame_source_) << '\n';
      if (!out) {
        return Status::Error(ErrorCode::kUnavailable, Errno("writing " + binding->state_file_));
      }
    }
    binding->old_mac_ = binding->frame_source_;
    if (Status s = WriteMac(options.interface, cluster.mac); !s.ok()) {
      std::remove(binding->state_file_.c_str());
      return s;
    }
    binding->mac_changed_ = true;
    binding->frame_source_ = MaskedSourceMac(cluster, options.host_id);
  }
  return binding;
}

ClusterMacBinding::~ClusterMacBinding() {
  if (mac_changed_) {
    if (Status s = WriteMac(interface_, old_mac_); s.ok()) {
      std::remove(state_file_.c_str());
    } else {
      LogWarning("cluster-mac", s.message() + " (kept " + state_file_ + " for the next start)");
    }
  }
  if (igmp_socket_ >= 0) close(igmp_socket_);
  if (packet_socket_ >= 0) close(packet_socket_);
}

}  // namespace nlb::agent
