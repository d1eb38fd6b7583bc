#include "agent/data_path.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "agent/capture_pacing.h"
#include "agent/log.h"
#include "common/tracked_decision.h"

namespace nlb::agent {
namespace {

// Frames per pcap_dispatch call: one snapshot load per batch, and a bounded time between checks
// of the stop descriptor.
constexpr int kBatch = 256;
// Batches before going back to poll(): keeps Stop responsive under a flood.
constexpr int kBatchesPerWake = 64;
constexpr int kStatsPeriodMs = 1000;
// Between rounds the thread naps or sleeps in poll(): agent/capture_pacing.h says which, and why.
// After a capture error (the link went down), the next try.
constexpr auto kCaptureRetry = std::chrono::milliseconds(20);

// The descriptor table is swept round robin so that every slot is visited at least once per
// kSweepPeriod (a closed flow leaves within close_delay + kSweepPeriod), in steps of at least
// kSweepSlots taken whenever that many are due: after a batch under load, at each poll timeout
// (kStatsPeriodMs) when idle.
constexpr uint32_t kSweepSlots = 4096;
constexpr std::chrono::milliseconds kSweepPeriod{5000};

}  // namespace

DataPath::DataPath(PacketCapture& capture, const TunDevice& tun, NeighbourResponder& responder,
                   const SnapshotHolder& snapshots, bool answer_when_not_serving)
    : capture_(capture),
      tun_(tun),
      responder_(responder),
      snapshots_(snapshots),
      answer_when_not_serving_(answer_when_not_serving) {}

DataPath::~DataPath() { Stop(); }

Status DataPath::Start() {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0)
    return Status::Error(ErrorCode::kUnavailable, std::string("eventfd: ") + std::strerror(errno));
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void DataPath::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
  thread_.join();
  close(stop_fd_);
  stop_fd_ = -1;
}

std::optional<std::chrono::steady_clock::time_point> DataPath::failing_since() const {
  const int64_t ns = failing_since_ns_.load();
  if (ns == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

const MapSnapshot& DataPath::Unleased(const MapSnapshot& snapshot) {
  if (unleased_.vips != snapshot.vips || unleased_.local_host_id != snapshot.local_host_id) {
    unleased_.vips = snapshot.vips;  // allocates only when the VIPs change
    unleased_.local_host_id = snapshot.local_host_id;
  }
  return unleased_;
}

void DataPath::OnFrame(void* self, std::span<const uint8_t> frame, uint32_t wire_length) {
  static_cast<DataPath*>(self)->Handle(frame, wire_length);
}

void DataPath::Handle(std::span<const uint8_t> frame, uint32_t wire_length) {
  // The batch's lease check may be stale: a process stopped (SIGSTOP, a starved thread) inside a
  // batch resumes it with the ring full of frames that arrived after its lease ended, whose SYNs
  // the peers may have answered by now. Checked before deciding, so that such a frame neither
  // opens nor touches a connection in the table: one clock read per frame (vDSO).
  if (!expired_in_batch_ && current_ != &unleased_ &&
      std::chrono::steady_clock::now() >= snapshots_.lease_until()) {
    current_ = &Unleased(*current_);
    expired_in_batch_ = true;
  }
  if (expired_in_batch_) Bump(counters_.lease_expired_frames);
  ParsedPacket packet;
  // libpcap hands back a tag the kernel had moved into metadata, so a tagged frame is seen as
  // tagged here and Decide() drops it as foreign_vlan when it is for a VIP (issue 11).
  const Decision d = table_ != nullptr ? DecideTracked(frame, *current_, *table_, now_, &packet)
                                       : Decide(frame, *current_, &packet);
  decisions_.Count(d, wire_length);
  if (wire_length > frame.size()) Bump(counters_.truncated);
  switch (d.verdict) {
    case Verdict::kAccept:
      // The parser bounds l3_offset + l3_length by the captured bytes.
      if (tun_.Write(frame.subspan(packet.l3_offset, packet.l3_length))) {
        Bump(counters_.delivered);
      } else {
        Bump(counters_.delivery_errors);
      }
      break;
    case Verdict::kNeighbour:
      if (current_->serving || answer_when_not_serving_) {
        responder_.Answer(packet);
      } else {
        Bump(counters_.neighbour_silent);
      }
      break;
    case Verdict::kDrop:
      break;
  }
}

void DataPath::Sweep(const MapSnapshot& snapshot) {
  const uint16_t local = snapshot.local_host_id;
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now_ - last_sweep_);
  const uint64_t due = static_cast<uint64_t>(table_->slot_count()) *
                       static_cast<uint64_t>(std::max<int64_t>(elapsed.count(), 0)) /
                       static_cast<uint64_t>(kSweepPeriod.count());
  // Sweep in steps of at least kSweepSlots, at the pace of slot_count per kSweepPeriod: many
  // small batches (the naps above) must not each sweep a whole step.
  if (due < std::min<uint64_t>(kSweepSlots, table_->slot_count())) return;
  last_sweep_ = now_;
  const uint32_t slots = static_cast<uint32_t>(std::min<uint64_t>(due, table_->slot_count()));
  table_->Sweep(now_, slots, [&](uint32_t rule, uint32_t bucket) {
    // Keep the flows of buckets this host owns or still serves while they move.
    if (!snapshot.serving || rule >= snapshot.rules.size()) return false;
    const RuleMap& map = snapshot.rules[rule];
    if (bucket >= map.bucket_owner.size()) return false;
    return map.bucket_owner[bucket] == local ||
           (map.moving != nullptr && map.moving->Contains(bucket));
  });
}

void DataPath::FollowNumbering(const MapSnapshot& snapshot) {
  if (snapshot.numbering == nullptr) return;
  if (numbering_ == nullptr || numbering_->epoch != snapshot.numbering->epoch) {
    if (numbering_ == nullptr) {  // the first numbering: the table has no flow in another one
      for (size_t r = 0; r < remap_.size(); ++r) remap_[r] = static_cast<uint8_t>(r);
    } else {
      RuleRemapBetween(*numbering_, *snapshot.numbering, &remap_);
      // Each rule's packet figures follow it, as the BPF back end's counter slots do; readers
      // see kRenumbering meanwhile (a seqlock: decisions_epoch()).
      decisions_epoch_.store(kRenumbering, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_release);
      decisions_.RenumberRules(remap_);
    }
    decisions_epoch_.store(snapshot.numbering->epoch, std::memory_order_release);
    if (table_ != nullptr) table_->Renumber(remap_, snapshot.numbering->epoch);
    numbering_ = snapshot.numbering;
  }
  if (table_ == nullptr) return;
  // An affinity change comes with a new map generation (Convergence::SetRules): rebucket the
  // rule's connections before any packet is decided, or its moving buckets, by the new key.
  if (keyed_generation_ == snapshot.generation) return;
  keyed_generation_ = snapshot.generation;
  for (size_t r = 0; r < snapshot.rules.size() && r < kMaxTrackedRules; ++r) {
    if (snapshot.rules[r].bucket_owner.empty()) continue;  // not tracked
    table_->SetClientKey(static_cast<uint8_t>(r), ClientKeyOf(snapshot.rules[r].rule));
  }
  table_->SetKeyGeneration(snapshot.generation);
}

bool DataPath::Nap(std::chrono::microseconds length, pollfd* stop) {
  // Not sleep_for: Stop is not delayed by a nap.
  const timespec timeout{0, static_cast<long>(length.count()) * 1000};
  if (ppoll(stop, 1, &timeout, nullptr) > 0 && stop->revents != 0) return false;
  return !stopping_.load(std::memory_order_relaxed);
}

void DataPath::Run() {
  pollfd fds[2] = {{capture_.selectable_fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  auto last_stats = std::chrono::steady_clock::now();
  CapturePacing pacing;
  std::optional<std::chrono::microseconds> nap;  // before the next round; nullopt: poll()
  for (;;) {
    int ready = 1;
    if (!nap) {
      ready = poll(fds, 2, kStatsPeriodMs);
      if (ready < 0 && errno != EINTR) {
        LogError("data-path", std::string("poll: ") + std::strerror(errno) +
                                  ": the data path stops, the host leaves the cluster");
        break;
      }
      if (fds[1].revents != 0) break;
    } else if (!Nap(*nap, fds + 1)) {
      break;
    }
    int frames = 0;
    for (int i = 0; i < kBatchesPerWake; ++i) {
      // Hold the snapshot for the whole batch: the control side may publish meanwhile.
      batch_generation_.store(0);  // busy: AppliedGeneration() must not say idle from here
      const std::shared_ptr<const MapSnapshot> snapshot = snapshots_.Load();
      FollowNumbering(*snapshot);
      batch_generation_.store(snapshot->generation);
      now_ = std::chrono::steady_clock::now();
      // The lease (common/map_snapshot.h): past it this host serves nothing.
      const bool leased = now_ < snapshots_.lease_until();
      expired_in_batch_ = false;
      if (leased) {
        current_ = snapshot.get();
      } else {
        current_ = &Unleased(*snapshot);
        Bump(counters_.lease_expired);
      }
      const int n = capture_.Dispatch(kBatch, &DataPath::OnFrame, this);
      // Not serving would sweep every flow away: an expired lease keeps the table as it is.
      if (table_ != nullptr && leased) Sweep(*snapshot);
      current_ = nullptr;
      batch_generation_.store(kIdle);
      if (n < 0) {
        // A link going down makes the capture fail until it is up again: keep trying, say so
        // once, and let the agent judge (failing_since) whether to leave the cluster.
        Bump(counters_.capture_errors);
        if (failing_since_ns_.load() == 0) {
          failing_since_ns_.store(
              std::chrono::duration_cast<std::chrono::nanoseconds>(now_.time_since_epoch())
                  .count());
          LogWarning("data-path", std::string("capture: ") + capture_.last_error());
        }
        std::this_thread::sleep_for(kCaptureRetry);
        break;
      }
      if (failing_since_ns_.load() != 0) {
        failing_since_ns_.store(0);
        LogNotice("data-path", "capture works again");
      }
      frames += n;
      if (n < kBatch) break;  // the ring is empty
    }
    nap = pacing.After({frames});
    if (table_ != nullptr && ready == 0) {  // idle: the sweep still has to come round
      now_ = std::chrono::steady_clock::now();
      const std::shared_ptr<const MapSnapshot> snapshot = snapshots_.Load();
      FollowNumbering(*snapshot);
      Sweep(*snapshot);
    }
    // Once a second, not per batch: pcap_stats is a system call.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_stats >= std::chrono::milliseconds(kStatsPeriodMs)) {
      last_stats = now;
      counters_.capture_dropped.store(capture_.Stats().dropped, std::memory_order_relaxed);
    }
  }
  counters_.capture_dropped.store(capture_.Stats().dropped, std::memory_order_relaxed);
  exited_.store(true);
}

}  // namespace nlb::agent
