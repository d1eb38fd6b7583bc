#include "agent/host_loop.h"

#include <algorithm>

#include "agent/log.h"

namespace nlb::agent {

namespace {

// Datagrams held while a map goes into the kernel (a few ticks' worth; the oldest go first).
constexpr size_t kMaxHeld = 16;
// The lease is the peers' tolerance less max(half a period, this) (docs/protocol.md).
constexpr std::chrono::milliseconds kLeaseMinMargin{30};
// A kernel step that holds the announcement longer than max(tolerance, this) makes the host leave.
constexpr std::chrono::milliseconds kKernelDeadline{1000};

}  // namespace

std::chrono::milliseconds LeaseLength(std::chrono::milliseconds period, uint32_t tolerance) {
  return tolerance * period - std::max(period / 2, kLeaseMinMargin);
}

std::chrono::milliseconds KernelDeadline(std::chrono::milliseconds period, uint32_t tolerance) {
  return std::max<std::chrono::milliseconds>(tolerance * period, kKernelDeadline);
}

HostLoop::HostLoop(LoopClock& clock, const NodeConfig& config, Convergence& convergence,
                   SnapshotHolder& snapshots, MapPublisher& publisher, HostLoopOwner& owner,
                   std::chrono::milliseconds lease_length)
    : clock_(clock),
      config_(config),
      convergence_(convergence),
      snapshots_(snapshots),
      publisher_(publisher),
      owner_(owner),
      timer_(clock.NewTimer()),
      lease_length_(lease_length) {}

void HostLoop::ScheduleTick() {
  // Lateness counts from when the tick was scheduled at the earliest: the first tick is due since
  // convergence was made, before the set-up that runs ahead of the loop (the nftables table, the
  // capture: 0.2-0.4 s), which is no lag of the loop's and used to be the max of every run.
  tick_due_ = std::max(convergence_.NextWakeup(), clock_.Now());
  timer_->At(tick_due_, [this] {
    loop_lag_.Record(std::chrono::duration_cast<LoopLag::Duration>(clock_.Now() - tick_due_));
    Tick();
    ScheduleTick();
  });
}

void HostLoop::Tick() {
  owner_.BeforeTick(clock_.Now());
  const auto before = convergence_.Report();
  Convergence::Actions actions = convergence_.OnTick(clock_.Now());
  // The data path (capture, or the BPF program) switches to what this tick decided before the
  // others hear of it: a peer that receives this host's report under a new map starts taking new
  // connections in the buckets it gained, so this host must have stopped taking them by then (a
  // SYN two hosts take is a broken connection). Send holds the datagrams until then.
  if (actions.map_changed || actions.moving_changed) PublishSnapshot();
  for (std::vector<uint8_t>& report : actions.moving_reports) Send(std::move(report), false);
  if (actions.heartbeat) Send(std::move(*actions.heartbeat), true);
  owner_.AfterTick(before, convergence_.Report(), actions.map_changed);
}

void HostLoop::OnDatagrams(std::span<const ReceivedDatagram> batch) {
  for (const ReceivedDatagram& d : batch) {
    const Status s = convergence_.OnDatagram(d.bytes, d.arrival);
    if (!s.ok()) {
      LogDebug("heartbeat", "dropped datagram from " + d.from.ToString() + ": " + s.message());
    }
  }
  // One tick for the whole queue: a tick between two queued datagrams would judge the silence
  // of peers whose heartbeats are still waiting behind the first. Ticking now keeps convergence
  // to network latency (a datagram may complete an agreement).
  Tick();
  ScheduleTick();
}

void HostLoop::Send(std::vector<uint8_t> datagram, bool heartbeat) {
  const auto now = clock_.Now();
  if (now < silent_until_) return;  // see silent_until_
  if (publisher_.holds_announcement()) {
    if (held_.size() >= kMaxHeld) held_.erase(held_.begin());
    held_.emplace_back(std::move(datagram), heartbeat);
    return;
  }
  sink_->Send(datagram);
  if (heartbeat) GrantLease(now);
}

void HostLoop::SendHeld() {
  std::vector<std::pair<std::vector<uint8_t>, bool>> held;
  held.swap(held_);
  for (auto& [datagram, heartbeat] : held) Send(std::move(datagram), heartbeat);
}

void HostLoop::PublishSnapshot() {
  auto snapshot = std::make_shared<MapSnapshot>();
  const ConvergedMap* map = convergence_.CurrentMap();
  if (map != nullptr) {
    *snapshot = ToMapSnapshot(*map, config_.cluster.port_rules, config_.cluster.vips,
                              config_.host.id, convergence_.serving(),
                              convergence_.MovingSnapshot(), convergence_.PendingSnapshot());
    owner_.Restrict(*snapshot);
    if (blocked_ != 0) snapshot->serving = false;
  } else {
    snapshot->local_host_id = config_.host.id;
    snapshot->vips = config_.cluster.vips;
  }
  snapshot->numbering = owner_.numbering();
  publisher_.Apply(std::move(snapshot));
}

}  // namespace nlb::agent
