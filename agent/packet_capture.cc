#include "agent/packet_capture.h"

#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "agent/log.h"
#include "common/cluster_mac.h"

namespace nlb::agent {
namespace {

struct Trampoline {
  PacketCapture::Handler handler;
  void* context;
};

void OnFrame(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
  const auto* t = reinterpret_cast<const Trampoline*>(user);
  t->handler(t->context, std::span<const uint8_t>(bytes, header->caplen), header->len);
}

Status PcapError(const std::string& what, pcap_t* handle) {
  return Status::Error(ErrorCode::kUnavailable, what + ": " + pcap_geterr(handle));
}

constexpr int kMaxSnaplen = 65535;
constexpr int kEthernetAndTwoVlanTags = 14 + 2 * 4;

// ETHTOOL_GGRO or ETHTOOL_GFLAGS; nullopt when the interface does not say.
std::optional<uint32_t> EthtoolValue(int fd, const std::string& interface, uint32_t command) {
  ethtool_value value{};
  value.cmd = command;
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  request.ifr_data = reinterpret_cast<char*>(&value);
  if (ioctl(fd, SIOCETHTOOL, &request) != 0) return std::nullopt;
  return value.data;
}

}  // namespace

int PacketCapture::AutomaticSnaplen(const std::string& interface) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return kMaxSnaplen;
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  const int mtu = ioctl(fd, SIOCGIFMTU, &request) == 0 ? request.ifr_mtu : -1;
  const std::optional<uint32_t> gro = EthtoolValue(fd, interface, ETHTOOL_GGRO);
  const std::optional<uint32_t> flags = EthtoolValue(fd, interface, ETHTOOL_GFLAGS);
  close(fd);
  // Coalesced segments reach the tap as one frame of up to 64 KiB.
  const bool coalescing = !gro || *gro != 0 || !flags || (*flags & ETH_FLAG_LRO) != 0;
  if (mtu <= 0 || coalescing) return kMaxSnaplen;
  return std::min(kMaxSnaplen, mtu + kEthernetAndTwoVlanTags);
}

std::string PacketCapture::FilterFor(const std::vector<IpAddress>& vips, bool neighbours_only) {
  std::string filter;
  for (const IpAddress& vip : vips) {
    if (!filter.empty()) filter += " or ";
    if (neighbours_only) {
      filter += vip.is_v6() ? "(icmp6 and ip6[40] == 135 and (dst host " + vip.ToString() +
                                  " or dst host " + SolicitedNodeGroup(vip).ToString() + "))"
                            : "(arp and arp dst host " + vip.ToString() + ")";
      continue;
    }
    // For an IPv4 address "dst host" also matches ARP whose target protocol address it is.
    filter += "dst host " + vip.ToString();
    if (vip.is_v6()) {
      filter +=
          " or (icmp6 and ip6[40] == 135 and dst host " + SolicitedNodeGroup(vip).ToString() + ")";
    }
  }
  return filter;
}

Result<std::unique_ptr<PacketCapture>> PacketCapture::Open(const CaptureOptions& options) {
  char error[PCAP_ERRBUF_SIZE] = "";
  pcap_t* handle = pcap_create(options.interface.c_str(), error);
  if (handle == nullptr) {
    return Status::Error(ErrorCode::kUnavailable, "capture on " + options.interface + ": " + error);
  }
  const int snaplen = options.snaplen > 0 ? options.snaplen : AutomaticSnaplen(options.interface);
  std::unique_ptr<PacketCapture> capture(new PacketCapture(handle, -1, snaplen));
  if (pcap_set_snaplen(handle, snaplen) != 0 ||
      pcap_set_buffer_size(handle, options.buffer_bytes) != 0 ||
      pcap_set_immediate_mode(handle, 1) != 0 || pcap_set_promisc(handle, 0) != 0) {
    return PcapError("configuring the capture on " + options.interface, handle);
  }
  const int activated = pcap_activate(handle);
  if (activated < 0) {
    return Status::Error(
        activated == PCAP_ERROR_PERM_DENIED ? ErrorCode::kPermission : ErrorCode::kUnavailable,
        "capture on " + options.interface + ": " + pcap_statustostr(activated) + " " +
            pcap_geterr(handle));
  }
  if (pcap_datalink(handle) != DLT_EN10MB) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         options.interface + " is not an Ethernet interface");
  }
  // Outgoing frames (our own replies and announcements) are never ours to decide.
  if (pcap_setdirection(handle, PCAP_D_IN) != 0) {
    return PcapError("incoming-only capture on " + options.interface, handle);
  }
  // pcap_setdirection drops outgoing frames after the kernel copied them to the tap; this makes
  // the kernel skip the tap for them (Linux 4.20+). Without it the capture still works.
  const int one = 1;
  if (setsockopt(pcap_fileno(handle), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) == 0) {
    capture->ignores_outgoing_ = true;
  } else {
    LogWarning("capture", "the kernel still hands " + options.interface +
                              "'s outgoing frames to the capture (PACKET_IGNORE_OUTGOING: " +
                              std::strerror(errno) + ")");
  }
  bpf_program program{};
  const std::string filter = FilterFor(options.vips, options.neighbours_only);
  if (pcap_compile(handle, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return PcapError("compiling filter '" + filter + "'", handle);
  }
  const int set = pcap_setfilter(handle, &program);
  pcap_freecode(&program);
  if (set != 0) return PcapError("installing filter '" + filter + "'", handle);
  if (pcap_setnonblock(handle, 1, error) != 0) {
    return Status::Error(ErrorCode::kUnavailable, std::string("non-blocking capture: ") + error);
  }
  capture->fd_ = pcap_get_selectable_fd(handle);
  if (capture->fd_ < 0) {
    return Status::Error(ErrorCode::kUnavailable, "capture has no selectable descriptor");
  }
  return capture;
}

PacketCapture::~PacketCapture() { pcap_close(handle_); }

int PacketCapture::Dispatch(int max_frames, Handler handler, void* context) {
  Trampoline t{handler, context};
  return pcap_dispatch(handle_, max_frames, OnFrame, reinterpret_cast<u_char*>(&t));
}

CaptureStats PacketCapture::Stats() const {
  pcap_stat raw{};
  CaptureStats stats;
  if (pcap_stats(handle_, &raw) == 0) {
    stats.received = raw.ps_recv;
    stats.dropped = raw.ps_drop;
    stats.interface_dropped = raw.ps_ifdrop;
  }
  return stats;
}

}  // namespace nlb::agent
