// ReplayGuard: per sender, the last sequence number seen for each of its recent boots, so that a
// recorded heartbeat replayed later is dropped instead of reviving a dead host or rolling back
// its state. Remembers kBootsPerHost boots per host id, independent of membership: forgetting a
// host that left must not make its old heartbeats fresh again. A boot superseded by a restart of
// the same host is refused for good, so a straggler of the old process cannot flap the view.
// Not thread-safe: owned by one Convergence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/host_set.h"

namespace nlb {

class ReplayGuard {
 public:
  static constexpr size_t kBootsPerHost = 8;

  enum class Verdict {
    kFresh,     // known boot, higher sequence: recorded
    kNewBoot,   // first heartbeat of this boot: recorded
    kReplayed,  // sequence not above the last one of its boot, or a superseded boot: drop it
  };

  ReplayGuard() : hosts_(kMaxHostId + 1) {}

  // Checks a heartbeat and, unless it is replayed, records its sequence.
  // REQUIRES: 1 <= host_id <= kMaxHostId
  Verdict Check(uint16_t host_id, uint64_t boot_id, uint64_t sequence);
  // Refuses every later heartbeat of (host_id, boot_id).
  void Supersede(uint16_t host_id, uint64_t boot_id);

 private:
  struct Boot {
    uint64_t boot_id = 0;
    uint64_t last_sequence = 0;
    uint64_t recorded_at = 0;  // insertion order, to evict the oldest boot
    bool superseded = false;
  };
  std::vector<std::vector<Boot>> hosts_;
  uint64_t clock_ = 0;
};

}  // namespace nlb
