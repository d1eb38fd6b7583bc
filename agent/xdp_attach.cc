#include "agent/xdp_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

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

// The native program on ifindex: its id (0: none) and name ("" when nlbd may not read it).
struct Present {
  uint32_t id = 0;
  std::string name;
};

uint32_t RecordedId(const std::string& file) {
  std::ifstream in(file);
  uint32_t id = 0;
  if (!(in >> id)) return 0;
  return id;
}

bool Ours(const Present& p, const std::string& record_file) {
  return p.id != 0 && (p.name == kXdpProgramName || p.id == RecordedId(record_file));
}

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
    return deliver_.Attach();
  }
  const std::string record = XdpRecordFile(state_dir_, interface_);
  if (present->id != 0 && !Ours(present.value(), record)) {
    return Status::Error(ErrorCode::kUnavailable,
                         "native XDP of " + interface_ + ": another program holds the hook (id " +
                             std::to_string(present->id) + ", \"" + present->name +
                             "\"); nlbd replaces only its own");
  }
  // Replacing only what the query saw where nlbd may open it (a program attached meanwhile then
  // makes this fail with EEXIST); else the hook is empty (UPDATE_IF_NOEXIST) or holds the id
  // recorded as ours.
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
  uint32_t flags = XDP_FLAGS_DRV_MODE;
  int old_fd = -1;
  if (present->id != 0) {
    old_fd = bpf_prog_get_fd_by_id(present->id);
    if (old_fd >= 0) opts.old_prog_fd = old_fd;
  } else {
    flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
  }
  const int err = bpf_xdp_attach(ifindex, program_fd_, flags, &opts);
  if (old_fd >= 0) close(old_fd);
  if (err == -EOPNOTSUPP) {
    return XdpError(
        "its driver cannot run an XDP program natively (use host.data_path bpf or auto)",
        interface_, err);
  }
  if (err != 0) return XdpError("attach the program", interface_, err);
  attached_ = true;
  // Best effort: without the record a crash's leftover is still found by name where nlbd may
  // read names.
  mkdir(state_dir_.c_str(), 0700);
  if (std::ofstream out(record); out) out << program_id_ << "\n";
  return deliver_.Attach();
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
  if (mac.value() != mac_) return false;
  return deliver_.Intact();
}

void XdpAttachment::Detach() {
  deliver_.Detach();
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
  // Another nlbd's record (it replaced ours) stays.
  const std::string record = XdpRecordFile(state_dir_, interface_);
  if (RecordedId(record) == program_id_) std::remove(record.c_str());
}

std::string XdpRecordFile(const std::string& state_dir, const std::string& interface) {
  struct stat ns {};
  const unsigned long long inode = stat("/proc/self/ns/net", &ns) == 0 ? ns.st_ino : 0;
  return state_dir + "/xdp-" + std::to_string(inode) + "-" + interface;
}

Status DetachLeftoverXdp(const std::string& state_dir, const std::string& interface,
                         bool* removed) {
  *removed = false;
  const std::string record = XdpRecordFile(state_dir, interface);
  const int ifindex = IndexOf(interface);
  if (ifindex == 0) {
    std::remove(record.c_str());
    return Status::Ok();
  }
  auto present = PresentOn(interface, ifindex);
  if (!present.ok()) return present.status();
  if (Ours(present.value(), record)) {
    // With the program's fd only if it is still that one; without (no CAP_SYS_ADMIN to open it
    // by id) whatever is there, which the query just said is ours.
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
    const int fd = bpf_prog_get_fd_by_id(present->id);
    if (fd >= 0) opts.old_prog_fd = fd;
    const int err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, &opts);
    if (fd >= 0) close(fd);
    if (err != 0 && err != -EEXIST) return XdpError("detach", interface, err);
    *removed = err == 0;
  }
  std::remove(record.c_str());
  return Status::Ok();
}

}  // namespace nlb::agent
