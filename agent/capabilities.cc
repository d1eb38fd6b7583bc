#include "agent/capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <span>

namespace nlb::agent {
namespace {

constexpr std::array<cap_value_t, 2> kKept = {CAP_NET_ADMIN, CAP_NET_RAW};
// host.data_path bpf or auto: loading the program and its maps takes CAP_BPF, and without
// CAP_PERFMON the verifier refuses pointer arithmetic the program relies on.
constexpr std::array<cap_value_t, 4> kKeptForBpf = {CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF,
                                                    CAP_PERFMON};

std::span<const cap_value_t> Kept(bool bpf) {
  return bpf ? std::span<const cap_value_t>(kKeptForBpf) : std::span<const cap_value_t>(kKept);
}

bool IsKept(cap_value_t cap, bool bpf) {
  for (cap_value_t kept : Kept(bpf)) {
    if (kept == cap) return true;
  }
  return false;
}

std::string Name(cap_value_t cap) {
  char* text = cap_to_name(cap);
  std::string name = text ? text : "capability " + std::to_string(cap);
  cap_free(text);
  return name;
}

Status Refused(const std::string& what) {
  return Status::Error(ErrorCode::kPermission, what + ": " + std::strerror(errno));
}

}  // namespace

std::vector<std::string> AgentCapabilities(bool bpf) {
  std::vector<std::string> names;
  for (cap_value_t cap : Kept(bpf)) names.push_back(Name(cap));
  return names;
}

Status DropUnneededCapabilities(bool bpf) {
  cap_t current = cap_get_proc();
  if (current == nullptr) return Refused("reading the process capabilities");
  cap_flag_value_t setpcap = CAP_CLEAR;
  cap_get_flag(current, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);

  // The bounding set first: dropping from it takes CAP_SETPCAP, which goes next.
  if (setpcap == CAP_SET) {
    for (cap_value_t cap = 0; cap < static_cast<cap_value_t>(cap_max_bits()); ++cap) {
      if (IsKept(cap, bpf) || cap_get_bound(cap) <= 0) continue;
      if (cap_drop_bound(cap) != 0) {
        cap_free(current);
        return Refused("dropping " + Name(cap) + " from the bounding set");
      }
    }
  }

  cap_t wanted = cap_init();  // all clear
  for (cap_value_t cap : Kept(bpf)) {
    cap_flag_value_t permitted = CAP_CLEAR;
    cap_get_flag(current, cap, CAP_PERMITTED, &permitted);
    if (permitted != CAP_SET) continue;
    cap_set_flag(wanted, CAP_PERMITTED, 1, &cap, CAP_SET);
    cap_set_flag(wanted, CAP_EFFECTIVE, 1, &cap, CAP_SET);
  }
  cap_free(current);
  const int rc = cap_set_proc(wanted);
  cap_free(wanted);
  if (rc != 0) return Refused("limiting the process capabilities");
  // Ambient capabilities are a subset of permitted and inheritable: both are now without them,
  // which clears them, but say so rather than rely on it.
  if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0) {
    return Refused("clearing the ambient capabilities");
  }
  return Status::Ok();
}

std::string CurrentCapabilitiesText() {
  cap_t current = cap_get_proc();
  if (current == nullptr) return "unknown";
  char* text = cap_to_text(current, nullptr);
  std::string result = text ? text : "unknown";
  cap_free(text);
  cap_free(current);
  return result;
}

}  // namespace nlb::agent
