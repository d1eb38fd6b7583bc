#include "agent/packet_capture.h"

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

}  // namespace

std::string PacketCapture::FilterFor(const std::vector<IpAddress>& vips) {
  // For an IPv4 address "dst host" also matches ARP whose target protocol address it is.
  std::string filter;
  for (const IpAddress& vip : vips) {
    if (!filter.empty()) filter += " or ";
    filter += "dst host " + vip.ToString();
    if (vip.is_v6()) {
      filter += " or (icmp6 and ip6[40] == 135 and dst host " +
                SolicitedNodeGroup(vip).ToString() + ")";
    }
  }
  return filter;
}

Result<std::unique_ptr<PacketCapture>> PacketCapture::Open(const CaptureOptions& options) {
  char error[PCAP_ERRBUF_SIZE] = "";
  pcap_t* handle = pcap_create(options.interface.c_str(), error);
  if (handle == nullptr) {
    return Status::Error(ErrorCode::kUnavailable,
                         "capture on " + options.interface + ": " + error);
  }
  std::unique_ptr<PacketCapture> capture(new PacketCapture(handle, -1));
  if (pcap_set_snaplen(handle, options.snaplen) != 0 ||
      pcap_set_buffer_size(handle, options.buffer_bytes) != 0 ||
      pcap_set_immediate_mode(handle, 1) != 0 || pcap_set_promisc(handle, 0) != 0) {
    return PcapError("configuring the capture on " + options.interface, handle);
  }
  const int activated = pcap_activate(handle);
  if (activated < 0) {
    return Status::Error(activated == PCAP_ERROR_PERM_DENIED ? ErrorCode::kPermission
                                                             : ErrorCode::kUnavailable,
                         "capture on " + options.interface + ": " + pcap_statustostr(activated) +
                             " " + pcap_geterr(handle));
  }
  if (pcap_datalink(handle) != DLT_EN10MB) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         options.interface + " is not an Ethernet interface");
  }
  // Outgoing frames (our own replies and announcements) are never ours to decide.
  if (pcap_setdirection(handle, PCAP_D_IN) != 0) {
    return PcapError("incoming-only capture on " + options.interface, handle);
  }
  bpf_program program{};
  const std::string filter = FilterFor(options.vips);
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
