// XdpAttachment: the BPF data plane's XDP program (host.data_path xdp; docs/bpf-data-plane.md)
// at the native (driver) XDP hook of the cluster interface, attached with libbpf's
// bpf_xdp_attach and XDP_FLAGS_DRV_MODE. An interface takes one native XDP program, so unlike
// the tc filter there is no handle of nlbd's own: a program is nlbd's when its id is the one
// recorded in the state directory's record file (XdpRecordFile: written at each Attach, removed
// at Detach, so a crash leaves it), or, where nlbd may read program names (CAP_SYS_ADMIN), when
// its name is kXdpProgramName. Attach replaces nlbd's program (a crashed nlbd's) but never
// another's, and refuses an interface whose driver cannot run XDP natively (no generic-mode
// fallback: generic XDP runs after the skb is built and is no faster than the tc hook, which
// `bpf` gives).
//
// An owned frame is delivered by rewriting its destination MAC to the interface's own (XDP has
// no skb pkt_type to set), so Attach also writes that MAC into the program's nlb_xdp_settings
// map, and Intact says false when the interface's MAC no longer matches it (then Attach writes
// it again). Where the skb exists before XDP runs (veth) it keeps the old MAC's pkt_type, so a
// small tc program of the same object (nlb_xdp_deliver) goes at the clsact ingress too, at
// nlbd's tc handle (a TcAttachment), and makes those frames PACKET_HOST: Attach, Intact and
// Detach cover both.
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
  // settings_fd: the program's nlb_xdp_settings map; deliver_fd: nlb_xdp_deliver; state_dir:
  // where the record file goes (StateDirectory() in nlbd). Nothing attached until Attach.
  XdpAttachment(std::string interface, int program_fd, int settings_fd, int deliver_fd,
                std::string state_dir)
      : interface_(std::move(interface)),
        program_fd_(program_fd),
        settings_fd_(settings_fd),
        state_dir_(std::move(state_dir)),
        deliver_(interface_, deliver_fd) {}
  ~XdpAttachment() override { Detach(); }
  XdpAttachment(const XdpAttachment&) = delete;
  XdpAttachment& operator=(const XdpAttachment&) = delete;

  // Writes the interface's MAC into the settings map, then attaches in native mode, replacing
  // an nlbd program there. kUnavailable naming the interface when its driver has no native XDP
  // (EOPNOTSUPP) or another program holds the hook.
  [[nodiscard]] Status Attach() override;
  // True while the native hook holds this program, the settings hold the interface's MAC and
  // the tc hook holds nlb_xdp_deliver.
  Result<bool> Intact() const override;
  void Detach() override;

  bool attached() const { return attached_; }

 private:
  std::string interface_;
  int program_fd_;
  int settings_fd_;
  std::string state_dir_;
  uint32_t program_id_ = 0;
  std::array<uint8_t, 6> mac_{};  // written into the settings by the last Attach
  bool attached_ = false;
  TcAttachment deliver_;
};

// The record file of interface's program in state_dir, named by network namespace too
// (namespaces on one machine share the directory).
std::string XdpRecordFile(const std::string& state_dir, const std::string& interface);

// For `nlbd --cleanup` and start-up on the tc hook: removes the native XDP program of interface
// if it is nlbd's (as above; another's stays), and the record file. *removed says whether there
// was one.
[[nodiscard]] Status DetachLeftoverXdp(const std::string& state_dir, const std::string& interface,
                                       bool* removed);

}  // namespace nlb::agent
