// XdpAttachment: the BPF data plane's XDP program (host.data_path xdp; docs/bpf-data-plane.md)
// at the native (driver) XDP hook of the cluster interface, attached with libbpf's
// bpf_xdp_attach and XDP_FLAGS_DRV_MODE. An interface takes one native XDP program, so unlike
// the tc filter there is no handle of nlbd's own: a program is nlbd's when its name is
// kXdpProgramName. Attach replaces nlbd's program (a crashed nlbd's) but never another's, and
// refuses an interface whose driver cannot run XDP natively (no generic-mode fallback: generic
// XDP runs after the skb is built and is no faster than the tc hook, which `bpf` gives).
//
// An owned frame is delivered by rewriting its destination MAC to the interface's own (XDP has
// no skb pkt_type to set), so Attach also writes that MAC into the program's nlb_xdp_settings
// map, and Intact says false when the interface's MAC no longer matches it (then Attach writes
// it again).
//
// Thread: the kernel worker (never the event loop), or the main thread of `nlbd --cleanup`.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "agent/bpf_attach.h"
#include "common/status.h"

namespace nlb::agent {

// The XDP program's name in agent/bpf/nlb_xdp.bpf.c, as the kernel reports it (15 characters at
// most).
inline constexpr char kXdpProgramName[] = "nlb_xdp";

class XdpAttachment final : public ProgramAttachment {
 public:
  // settings_fd: the program's nlb_xdp_settings map. Nothing attached until Attach.
  XdpAttachment(std::string interface, int program_fd, int settings_fd)
      : interface_(std::move(interface)), program_fd_(program_fd), settings_fd_(settings_fd) {}
  ~XdpAttachment() override { Detach(); }
  XdpAttachment(const XdpAttachment&) = delete;
  XdpAttachment& operator=(const XdpAttachment&) = delete;

  // Writes the interface's MAC into the settings map, then attaches in native mode, replacing
  // an nlbd program there. kUnavailable naming the interface when its driver has no native XDP
  // (EOPNOTSUPP) or another program holds the hook.
  [[nodiscard]] Status Attach() override;
  // True while the native hook holds this program and the settings hold the interface's MAC.
  Result<bool> Intact() const override;
  void Detach() override;

  bool attached() const { return attached_; }

 private:
  std::string interface_;
  int program_fd_;
  int settings_fd_;
  uint32_t program_id_ = 0;
  std::array<uint8_t, 6> mac_{};  // written into the settings by the last Attach
  bool attached_ = false;
};

// For `nlbd --cleanup`: removes a native XDP program named kXdpProgramName from interface
// (another's stays). *removed says whether there was one.
[[nodiscard]] Status DetachLeftoverXdp(const std::string& interface, bool* removed);

}  // namespace nlb::agent
