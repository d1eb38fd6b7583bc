// TcAttachment: nlbd's one tc filter, the BPF data plane's program (agent/bpf_plane.h) at the
// clsact ingress hook of the cluster interface, attached with libbpf's bpf_tc_* calls
// (netlink). It is found by nlbd's own handle and priority (kTcHandle, kTcPriority), so attaching
// replaces what a crashed nlbd left there, and detaching removes nothing of anybody else's:
// other filters on the hook stay, and so does the clsact qdisc (it is shared, and empty
// otherwise costs nothing).
//
// Someone may take the filter away (`tc filter del`, `tc qdisc del dev IF clsact`, the interface
// deleted and made again): Intact() says so, Attach() again repairs it.
//
// ProgramAttachment is what nlbd needs of either hook (this one, or XdpAttachment in
// agent/xdp_attach.h for host.data_path xdp): attach, ask whether it is intact, detach.
//
// Thread: the kernel worker (the agent never makes these calls on its event loop), or the main
// thread of `nlbd --cleanup`.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace nlb::agent {

// The filter's handle and priority on the hook ("NL"; priority 1 so it runs before the filters
// of others that keep the default priorities).
inline constexpr uint32_t kTcHandle = 0x4e4c;
inline constexpr uint32_t kTcPriority = 1;

// The data plane's program on its hook of the cluster interface.
class ProgramAttachment {
 public:
  virtual ~ProgramAttachment() = default;
  // Puts the program on the hook (again, after somebody took it away). kUnavailable with the
  // kernel's reason.
  [[nodiscard]] virtual Status Attach() = 0;
  // True while the hook holds this program.
  virtual Result<bool> Intact() const = 0;
  // Removes the program if this attachment put it there and it is still there; errors are
  // logged. Idempotent.
  virtual void Detach() = 0;
};

class TcAttachment final : public ProgramAttachment {
 public:
  // Nothing attached until Attach.
  TcAttachment(std::string interface, int program_fd)
      : interface_(std::move(interface)), program_fd_(program_fd) {}
  ~TcAttachment() override { Detach(); }
  TcAttachment(const TcAttachment&) = delete;
  TcAttachment& operator=(const TcAttachment&) = delete;

  // Makes the clsact qdisc if there is none and puts the program at nlbd's handle and priority,
  // replacing a filter there.
  [[nodiscard]] Status Attach() override;
  // True while the hook holds this program at nlbd's handle and priority.
  Result<bool> Intact() const override;
  void Detach() override;

  bool attached() const { return attached_; }
  const std::string& interface() const { return interface_; }

 private:
  std::string interface_;
  int program_fd_;
  uint32_t program_id_ = 0;  // of program_fd_, as the kernel reports the attached filter's
  bool attached_ = false;
};

// For `nlbd --cleanup`: removes the filter at nlbd's handle and priority on interface's clsact
// ingress, whatever program it holds. *removed says whether there was one.
[[nodiscard]] Status DetachLeftoverTcFilter(const std::string& interface, bool* removed);

}  // namespace nlb::agent
