#include "agent/xdp_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/log.h"
#include "common/bpf/xdp_layout.h"

namespace nlb::agent {
namespace {

Status XdpError(const std::string& what, const std::string& interface, int error) {
  return Status::Error(ErrorCode::kUnavailable, "native XDP of " + interface + ": " + what + ": " +
                                                    std::strerror(error < 0 ? -error : error));
}

int IndexOf(const std::string& interface) {
  return static_cast<int>(if_nametoindex(interface.c_str()));
}

Result<std::array<uint8_t, 6>> MacOf(const std::string& interface) {
  ifreq request{};
  if (interface.size() >= sizeof(request.ifr_name)) {
    return XdpError("read the MAC", interface, ENAMETOOLONG);
  }
  std::memcpy(request.ifr_name, interface.c_str(), interface.size() + 1);
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return XdpError("read the MAC", interface, errno);
  const int rc = ioctl(s, SIOCGIFHWADDR, &request);
  const int error = errno;
  close(s);
  if (rc != 0) return XdpError("read the MAC", interface, error);
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

// The native program on ifindex: its id (0: none) and name.
struct Present {
  uint32_t id = 0;
  std::string name;
};

Result<Present> PresentOn(const std::string& interface, int ifindex) {
  LIBBPF_OPTS(bpf_xdp_query_opts, query);
  if (const int err = bpf_xdp_query(ifindex, XDP_FLAGS_DRV_MODE, &query); err != 0) {
    return XdpError("query", interface, err);
  }
  Present p;
  p.id = query.drv_prog_id;
  if (p.id == 0) return p;
  const int fd = bpf_prog_get_fd_by_id(p.id);
  if (fd < 0) return p;  // gone meanwhile: a name nobody has
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0) p.name = info.name;
  close(fd);
  return p;
}

}  // namespace

Status XdpAttachment::Attach() {
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  if (bpf_obj_get_info_by_fd(program_fd_, &info, &length) != 0) {
    return XdpError("read the program's id", interface_, errno);
  }
  program_id_ = info.id;
  const int ifindex = IndexOf(interface_);
  if (ifindex == 0) return XdpError("find the interface", interface_, ENODEV);
  auto mac = MacOf(interface_);
  if (!mac.ok()) return mac.status();
  // The MAC first: the program delivers by it from its first frame on.
  nlb_xdp_settings settings{};
  std::memcpy(settings.mac, mac.value().data(), sizeof(settings.mac));
  const uint32_t zero = 0;
  if (bpf_map_update_elem(settings_fd_, &zero, &settings, BPF_ANY) != 0) {
    return XdpError("write nlb_xdp_settings", interface_, errno);
  }
  mac_ = mac.value();
  auto present = PresentOn(interface_, ifindex);
  if (!present.ok()) return present.status();
  if (present->id == program_id_) {
    attached_ = true;
    return Status::Ok();
  }
  if (present->id != 0 && present->name != kXdpProgramName) {
    return Status::Error(ErrorCode::kUnavailable,
                         "native XDP of " + interface_ + ": another program holds the hook (id " +
                             std::to_string(present->id) + ", \"" + present->name +
                             "\"); nlbd replaces only its own");
  }
  // Replacing only what the query saw: a program attached meanwhile makes this fail (EEXIST).
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
  int old_fd = -1;
  if (present->id != 0) {
    old_fd = bpf_prog_get_fd_by_id(present->id);
    if (old_fd >= 0) opts.old_prog_fd = old_fd;
  }
  const int err = bpf_xdp_attach(ifindex, program_fd_, XDP_FLAGS_DRV_MODE, &opts);
  if (old_fd >= 0) close(old_fd);
  if (err == -EOPNOTSUPP) {
    return XdpError(
        "its driver cannot run an XDP program natively (use host.data_path bpf or auto)",
        interface_, err);
  }
  if (err != 0) return XdpError("attach the program", interface_, err);
  attached_ = true;
  return Status::Ok();
}

Result<bool> XdpAttachment::Intact() const {
  if (!attached_) return false;
  const int ifindex = IndexOf(interface_);
  if (ifindex == 0) return false;
  auto present = PresentOn(interface_, ifindex);
  if (!present.ok()) return present.status();
  if (present->id != program_id_) return false;
  // A MAC changed under the program would send owned frames to a MAC the stack does not take.
  auto mac = MacOf(interface_);
  if (!mac.ok()) return mac.status();
  return mac.value() == mac_;
}

void XdpAttachment::Detach() {
  if (!attached_) return;
  attached_ = false;
  const int ifindex = IndexOf(interface_);
  if (ifindex == 0) return;
  // Only our program: XDP_FLAGS_REPLACE with our fd as the expected one (EEXIST otherwise).
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = program_fd_);
  const int err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, &opts);
  if (err != 0 && err != -EEXIST && err != -ENOENT && err != -ENODEV) {
    LogError("bpf", XdpError("detach", interface_, err).message());
  }
}

Status DetachLeftoverXdp(const std::string& interface, bool* removed) {
  *removed = false;
  const int ifindex = IndexOf(interface);
  if (ifindex == 0) return Status::Ok();
  auto present = PresentOn(interface, ifindex);
  if (!present.ok()) return present.status();
  if (present->id == 0 || present->name != kXdpProgramName) return Status::Ok();
  const int fd = bpf_prog_get_fd_by_id(present->id);
  if (fd < 0) return Status::Ok();  // gone meanwhile
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);
  const int err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, &opts);
  close(fd);
  if (err != 0 && err != -EEXIST) return XdpError("detach", interface, err);
  *removed = err == 0;
  return Status::Ok();
}

}  // namespace nlb::agent
