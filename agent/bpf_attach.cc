#include "agent/bpf_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "agent/log.h"

namespace nlb::agent {
namespace {

Status TcError(const std::string& what, const std::string& interface, int error) {
  return Status::Error(ErrorCode::kUnavailable, "tc clsact ingress of " + interface + ": " + what +
                                                    ": " +
                                                    std::strerror(error < 0 ? -error : error));
}

// The hook on interface's ingress; ifindex 0 when there is no such interface now.
bpf_tc_hook HookOf(const std::string& interface) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(if_nametoindex(interface.c_str())),
              .attach_point = BPF_TC_INGRESS);
  return hook;
}

// What sits at nlbd's handle and priority: the program's id, 0 when nothing does.
Result<uint32_t> QueryOurs(const std::string& interface) {
  bpf_tc_hook hook = HookOf(interface);
  if (hook.ifindex == 0) return uint32_t{0};
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  const int err = bpf_tc_query(&hook, &opts);
  // ENOENT: no filter there; EINVAL: no clsact qdisc (the kernel refuses the dump).
  if (err == -ENOENT || err == -EINVAL) return uint32_t{0};
  if (err != 0) return TcError("query", interface, err);
  return opts.prog_id;
}

}  // namespace

Status TcAttachment::Attach() {
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  if (bpf_obj_get_info_by_fd(program_fd_, &info, &length) != 0) {
    return TcError("read the program's id", interface_, errno);
  }
  program_id_ = info.id;
  bpf_tc_hook hook = HookOf(interface_);
  if (hook.ifindex == 0) return TcError("find the interface", interface_, ENODEV);
  if (const int err = bpf_tc_hook_create(&hook); err != 0 && err != -EEXIST) {
    return TcError("create the clsact qdisc", interface_, err);
  }
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = program_fd_, .flags = BPF_TC_F_REPLACE,
              .handle = kTcHandle, .priority = kTcPriority);
  if (const int err = bpf_tc_attach(&hook, &opts); err != 0) {
    return TcError("attach the program", interface_, err);
  }
  attached_ = true;
  return Status::Ok();
}

Result<bool> TcAttachment::Intact() const {
  auto id = QueryOurs(interface_);
  if (!id.ok()) return id.status();
  return attached_ && id.value() == program_id_;
}

void TcAttachment::Detach() {
  if (!attached_) return;
  attached_ = false;
  // Only our program: a newer nlbd may have replaced it meanwhile (the handle is shared).
  auto id = QueryOurs(interface_);
  if (!id.ok()) {
    LogError("bpf", id.status().message());
    return;
  }
  if (id.value() != program_id_) return;
  bpf_tc_hook hook = HookOf(interface_);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  if (const int err = bpf_tc_detach(&hook, &opts); err != 0 && err != -ENOENT) {
    LogError("bpf", TcError("detach", interface_, err).message());
  }
}

Status DetachLeftoverTcFilter(const std::string& interface, bool* removed) {
  *removed = false;
  auto id = QueryOurs(interface);
  if (!id.ok()) return id.status();
  if (id.value() == 0) return Status::Ok();
  bpf_tc_hook hook = HookOf(interface);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  if (const int err = bpf_tc_detach(&hook, &opts); err != 0 && err != -ENOENT) {
    return TcError("detach", interface, err);
  }
  *removed = true;
  return Status::Ok();
}

}  // namespace nlb::agent
