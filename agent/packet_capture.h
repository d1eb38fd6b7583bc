// PacketCapture: the libpcap tap on the cluster interface that feeds the data path. Immediate mode
// (without it libpcap adds ~10 ms of latency), a large ring (bursts wait there, not in drops),
// a snaplen that fits the interface's largest frame, non-blocking, incoming direction only (the
// kernel does not even offer it outgoing frames where it allows, PACKET_IGNORE_OUTGOING), and a
// kernel BPF filter that passes only
// what the data path can use: IP packets to a VIP, ARP for a VIP, and neighbour solicitations
// sent to a VIP's solicited-node group (VLAN-tagged frames are not matched yet).
//
// Open: control thread. Dispatch and Stats: the data path thread only (libpcap handles are not
// thread-safe). The handle is closed on destruction.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

struct CaptureOptions {
  std::string interface;
  std::vector<IpAddress> vips;
  int buffer_bytes = 32 << 20;
  // 0: automatic (AutomaticSnaplen). Immediate mode makes libpcap use TPACKET_V2, whose ring has
  // one fixed slot per frame sized by the snaplen: 65535 leaves 512 slots in 32 MiB, a few
  // milliseconds of slack at 100k packets/s, while MTU-sized slots give about 16k.
  int snaplen = 0;
  // The BPF data plane decides every data packet in the kernel: the tap then takes only the
  // neighbour requests for a VIP (ARP, and neighbour solicitations to a VIP or its
  // solicited-node group), which the data path answers.
  bool neighbours_only = false;
};

struct CaptureStats {
  uint64_t received = 0;  // passed the filter, as the kernel counts them
  uint64_t dropped = 0;   // the ring was full (the data path fell behind)
  uint64_t interface_dropped = 0;
};

class PacketCapture {
 public:
  // Called once per captured frame, during Dispatch. frame is valid only during the call.
  // wire_length > frame.size() when the frame was cut at snaplen.
  using Handler = void (*)(void* context, std::span<const uint8_t> frame, uint32_t wire_length);

  // REQUIRES: options.vips is not empty.
  static Result<std::unique_ptr<PacketCapture>> Open(const CaptureOptions& options);
  ~PacketCapture();
  PacketCapture(const PacketCapture&) = delete;
  PacketCapture& operator=(const PacketCapture&) = delete;

  // A descriptor that polls readable when frames wait.
  int selectable_fd() const { return fd_; }
  // Hands at most max_frames waiting frames to handler; returns how many (0: none waiting), or -1
  // on a capture error (the message is in last_error()).
  int Dispatch(int max_frames, Handler handler, void* context);
  const char* last_error() const { return pcap_geterr(handle_); }
  CaptureStats Stats() const;

  // The snaplen in force (after AutomaticSnaplen when options.snaplen was 0).
  int snaplen() const { return snaplen_; }
  // The kernel skips this tap for outgoing frames (PACKET_IGNORE_OUTGOING): it neither clones
  // nor filters our own replies. False on kernels that refuse it (the reason is logged); the
  // capture then still takes incoming frames only, after the kernel's filter.
  bool ignores_outgoing() const { return ignores_outgoing_; }

  // The longest frame the interface can hand to a tap: its MTU plus an Ethernet header and two
  // VLAN tags, or 65535 when it coalesces received segments (GRO or LRO on) or cannot tell.
  // A later MTU increase makes longer frames count as truncated (and dropped), not crash.
  static int AutomaticSnaplen(const std::string& interface);

  // The BPF filter text for vips, exposed for tests and diagnostics.
  static std::string FilterFor(const std::vector<IpAddress>& vips, bool neighbours_only = false);

 private:
  PacketCapture(pcap_t* handle, int fd, int snaplen)
      : handle_(handle), fd_(fd), snaplen_(snaplen) {}
  pcap_t* handle_;
  int fd_;
  int snaplen_;
  bool ignores_outgoing_ = false;
};

}  // namespace nlb::agent
