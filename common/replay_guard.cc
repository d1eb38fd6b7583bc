#include "common/replay_guard.h"

#include <algorithm>

namespace nlb {

ReplayGuard::Verdict ReplayGuard::Check(uint16_t host_id, uint64_t boot_id, uint64_t sequence) {
  std::vector<Boot>& boots = hosts_[host_id];
  for (Boot& boot : boots) {
    if (boot.boot_id != boot_id) continue;
    if (boot.superseded || sequence <= boot.last_sequence) return Verdict::kReplayed;
    boot.last_sequence = sequence;
    return Verdict::kFresh;
  }
  if (boots.size() == kBootsPerHost) {
    boots.erase(std::min_element(boots.begin(), boots.end(), [](const Boot& a, const Boot& b) {
      return a.recorded_at < b.recorded_at;
    }));
  }
  boots.push_back({boot_id, sequence, ++clock_, false});
  return Verdict::kNewBoot;
}

void ReplayGuard::Supersede(uint16_t host_id, uint64_t boot_id) {
  for (Boot& boot : hosts_[host_id]) {
    if (boot.boot_id == boot_id) boot.superseded = true;
  }
}

}  // namespace nlb
