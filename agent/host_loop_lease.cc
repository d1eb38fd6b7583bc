// host_loop_lease.cc: the lease, and leaving the cluster while this host cannot serve
// (docs/protocol.md, "The lease"; docs/data-path.md, "When the data path or the kernel fails").
#include <chrono>

#include "agent/host_loop.h"
#include "agent/log.h"

namespace nlb::agent {

void HostLoop::GrantLease(std::chrono::steady_clock::time_point now) {
  const auto period = std::chrono::milliseconds(config_.cluster.heartbeat.period_ms);
  if (blocked_ & kBlockKernel) return;  // see silent_until_: the kernel's lease must run out
  if (lease_hold_until_) {
    if (now < *lease_hold_until_) return;
    if (!map_forgotten_ && !convergence_.AgreedSince(lease_ended_at_)) {
      // A peer disagreed with this host's view after its lease ended: it may have dropped this
      // host and taken its buckets. Serving by the old map would make two owners until the
      // peers adopt their next one (Convergence::ForgetMap says why), so the map goes, and the
      // next is taken as a joining host takes one. The snapshot without it is published on the
      // loop's next turn (not from inside Send), within the extra period held here.
      convergence_.ForgetMap(now);
      map_forgotten_ = true;
      lease_hold_until_ = now + period;
      clock_.Post([this] { PublishSnapshot(); });
      const std::string line =
          "a peer may have dropped this host during its stall: serving only by the next map";
      LogNotice("lease", line);
      owner_.NoteEvent(line);
      return;
    }
    lease_hold_until_.reset();
    map_forgotten_ = false;
    LogNotice("lease", "serving again after the hold");
  } else if (lease_granted_ && now >= snapshots_.lease_until()) {
    // The loop stalled past the lease: the peers may have given this host's buckets away. It
    // serves again only after two periods of heartbeats, in which a peer that dropped it shows
    // that in its view (and then it serves only by a new map, above).
    ++lease_expiries_;
    lease_hold_until_ = now + 2 * period;
    lease_ended_at_ = snapshots_.lease_until();
    const auto late =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - snapshots_.lease_until());
    const std::string line = "the lease expired " + std::to_string(late.count()) +
                             " ms ago (the loop stalled, or a kernel update held the heartbeats): "
                             "serving nothing for two heartbeat periods";
    LogWarning("lease", line);
    owner_.NoteEvent(line);
    return;
  }
  lease_granted_ = true;
  const auto until = now + lease_length_;
  snapshots_.SetLease(until);
  publisher_.RenewLease(until);
}

void HostLoop::Block(BlockReason reason, const std::string& why) {
  if (blocked_ & reason) return;
  const bool was_blocked = blocked_ != 0;
  blocked_ |= reason;
  blocked_why_ = why;
  const auto now = clock_.Now();
  if (reason == kBlockKernel) {
    // The stuck worker can no longer withdraw the kernel's lease: serve nothing here, and say
    // nothing until that lease has run out, so that no peer takes a bucket the kernel still
    // delivers (the peers drop this host by tolerance meanwhile, or hear it leave after).
    snapshots_.SetLease({});
    silent_until_ = publisher_.granted();
    held_.clear();
  }
  const std::string line = "leaving the cluster: " + why;
  LogError("agent", line);
  owner_.NoteEvent(line);
  if (!was_blocked) {
    convergence_.SetRole(AnnouncedRole(), now);
    PublishSnapshot();
  }
}

void HostLoop::Unblock(BlockReason reason) {
  if ((blocked_ & reason) == 0) return;
  blocked_ &= static_cast<uint8_t>(~reason);
  if (blocked_ != 0) return;
  const std::string line = "rejoining the cluster: " + blocked_why_ + " no more";
  blocked_why_.clear();
  LogNotice("agent", line);
  owner_.NoteEvent(line);
  convergence_.SetRole(AnnouncedRole(), clock_.Now());
  PublishSnapshot();
}

}  // namespace nlb::agent
