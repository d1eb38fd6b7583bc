#include "common/cluster_view.h"

#include <openssl/evp.h>

namespace nlb {

std::string_view HostRoleName(HostRole role) {
  switch (role) {
    case HostRole::kActive:
      return "active";
    case HostRole::kDraining:
      return "draining";
    case HostRole::kStopped:
      return "stopped";
    case HostRole::kSuspended:
      return "suspended";
  }
  return "unknown";
}

HostRole RoleOfState(HostState state) {
  switch (state) {
    case HostState::kConverging:
    case HostState::kConverged:
      return HostRole::kActive;
    case HostState::kDraining:
      return HostRole::kDraining;
    case HostState::kStopped:
      return HostRole::kStopped;
    case HostState::kSuspended:
      return HostRole::kSuspended;
  }
  return HostRole::kStopped;
}

HostState StateOfRole(HostRole role, bool converged) {
  switch (role) {
    case HostRole::kActive:
      return converged ? HostState::kConverged : HostState::kConverging;
    case HostRole::kDraining:
      return HostState::kDraining;
    case HostRole::kStopped:
      return HostState::kStopped;
    case HostRole::kSuspended:
      return HostState::kSuspended;
  }
  return HostState::kStopped;
}

Digest ViewDigest(std::span<const ViewMember> members) {
  // Version-tagged so that a later change of the encoding can never collide with this one.
  std::vector<uint8_t> in = {'N', 'L', 'B', 'V', 1};
  auto u16 = [&in](uint32_t v) {
    in.push_back(static_cast<uint8_t>(v >> 8));
    in.push_back(static_cast<uint8_t>(v));
  };
  for (const ViewMember& m : members) {
    u16(m.host_id);
    for (int shift = 56; shift >= 0; shift -= 8)
      in.push_back(static_cast<uint8_t>(m.boot_id >> shift));
    in.push_back(static_cast<uint8_t>(m.role));
    u16(static_cast<uint32_t>(m.rule_params.size()));
    for (const HostRuleParams& p : m.rule_params) {
      u16(p.weight);
      u16(p.priority);
    }
  }
  Digest digest{};
  unsigned int length = 0;
  EVP_Digest(in.data(), in.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace nlb
