#include "agent/bpf_flow_table.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <string>

#include "common/flow_hash.h"
#include "common/ip_address.h"

namespace nlb::agent {
namespace {

Status Unavailable(const std::string& what, int error) {
  return Status::Error(ErrorCode::kUnavailable, "BPF connection table: " + what + ": " +
                                                    std::strerror(error < 0 ? -error : error));
}

uint64_t MonotonicNow() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // bpf_ktime_get_ns()'s clock
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

uint64_t Nanos(std::chrono::seconds s) {
  return static_cast<uint64_t>(std::chrono::nanoseconds(s).count());
}

std::array<uint8_t, sizeof(nlb_flow_id)> Bytes(const nlb_flow_id& id) {
  std::array<uint8_t, sizeof(nlb_flow_id)> b;
  std::memcpy(b.data(), &id, sizeof(id));
  return b;
}

}  // namespace

BpfFlowTable::BpfFlowTable(const BpfPlane& plane)
    : flows_fd_(plane.flows_fd()),
      half_open_fd_(plane.half_open_fd()),
      counters_fd_(plane.flow_counters_fd()),
      idle_ns_(Nanos(plane.load_options().idle_timeout)),
      close_ns_(Nanos(plane.load_options().close_delay)),
      half_open_ns_(Nanos(plane.load_options().half_open_timeout)),
      batch_keys_(kBatch),
      batch_values_(kBatch),
      scratch_(static_cast<size_t>(NLB_MAX_RULES) * NLB_BUCKET_COUNT),
      counts_(new std::atomic<uint32_t>[static_cast<size_t>(NLB_MAX_RULES) * NLB_BUCKET_COUNT]()) {}

// The program's rule (track.bpf.h's flow_expired), so that the sweep removes exactly what the
// program no longer uses.
bool BpfFlowTable::Expired(const nlb_flow& f, bool half_open, uint64_t now_ns) const {
  const uint64_t limit =
      f.state == NLB_FLOW_CLOSING ? close_ns_ : (half_open ? half_open_ns_ : idle_ns_);
  return now_ns >= f.last_seen_ns && now_ns - f.last_seen_ns >= limit;
}

uint32_t BpfFlowTable::BucketOf(const Entry& e, std::span<const ClientKey> rule_keys) const {
  if (e.id.rule >= rule_keys.size()) return e.value.bucket % NLB_BUCKET_COUNT;
  const ClientKey& key = rule_keys[e.id.rule];
  const IpAddress client =
      e.id.family == NLB_FAMILY_V6 ? IpAddress::V6(e.id.client) : IpAddress::V4(e.id.client);
  // Tracked flows are unfragmented TCP: the client's port is always known.
  return BucketOfHash(
      FlowHash(client, true, e.id.client_port, key.affinity, key.ipv6_network_prefix));
}

// Batch lookups: the cursor is a hash bucket, so deleting an entry already returned (its bucket is
// behind the cursor) is safe during the walk, and the memory used is one batch, whatever the size
// of the map.
Status BpfFlowTable::ForEach(int fd, const std::function<void(const Entry&)>& fn) {
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t in_batch = 0;
  uint32_t out_batch = 0;
  bool first = true;
  for (;;) {
    uint32_t count = kBatch;
    const int rc = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch,
                                        batch_keys_.data(), batch_values_.data(), &count, &opts);
    const int error = rc == 0 ? 0 : errno;
    if (rc != 0 && error != ENOENT) return Unavailable("batch lookup", error);
    for (uint32_t i = 0; i < count; ++i) fn(Entry{batch_keys_[i], batch_values_[i]});
    if (error == ENOENT) return Status::Ok();  // the last batch
    in_batch = out_batch;
    first = false;
  }
}

Result<BpfSweepResult> BpfFlowTable::Sweep(const BpfSweepOptions& options) {
  const uint64_t now = options.now_ns != 0 ? options.now_ns : MonotonicNow();
  BpfSweepResult result;
  std::fill(scratch_.begin(), scratch_.end(), 0u);
  std::array<uint64_t, NLB_MAX_RULES> totals{};
  const std::array<int, 2> fds = {flows_fd_, half_open_fd_};  // [m]: 0 flows, 1 half-open
  std::array<uint64_t, 2> present{};
  // Half-open first: a flow promoted during the sweep is then met in one map or the other (or
  // both: counted twice for one sweep, which only delays the end of a move), never in neither,
  // which could make a held bucket look empty.
  for (const size_t m : {size_t{1}, size_t{0}}) {
    const bool half_open = m == 1;
    const Status walked = ForEach(fds[m], [&](const Entry& e) {
      ++result.examined;
      ++present[m];
      const uint32_t bucket = BucketOf(e, options.rule_keys);
      const bool expired = Expired(e.value, half_open, now);
      // v: the entry as it is now (the batch's copy, or the one taken back below).
      const auto count_live = [&](const nlb_flow& v) {
        if (half_open && now >= v.last_seen_ns &&
            now - v.last_seen_ns >= options.half_open_hold_ns) {
          ++result.past_hold;  // kept (still tracked), but it no longer holds its bucket
          return;
        }
        if (e.id.rule < NLB_MAX_RULES) {
          ++scratch_[e.id.rule * NLB_BUCKET_COUNT + bucket];
          ++totals[e.id.rule];
        }
        ++result.live;
      };
      if (!expired && (!options.keep || options.keep(e.id.rule, bucket))) {
        count_live(e.value);
        return;
      }
      // Taken out atomically with its current value: a SYN may have renewed an expired
      // half-open entry since the batch read, and then it goes back.
      nlb_flow taken{};
      if (bpf_map_lookup_and_delete_elem(fds[m], &e.id, &taken) != 0) {
        --present[m];  // gone already (the program, or the LRU)
        return;
      }
      if (expired && !Expired(taken, half_open, now)) {
        // Same key, same hash bucket: behind the cursor, so the walk does not meet it again.
        // Counted: a live flow missing from the counts could end a move it still needs.
        (void)bpf_map_update_elem(fds[m], &e.id, &taken, BPF_NOEXIST);
        if (!options.keep || options.keep(e.id.rule, bucket)) count_live(taken);
        return;
      }
      ++result.removed;
      --present[m];
      ++user_removed_[m];
      ++(expired ? swept_expired_ : swept_not_kept_);
    });
    if (!walked.ok()) return walked;
  }
  // Each count is a whole sweep's value; readers may see some buckets of this sweep and some of
  // the last while it is copied, never a count of half a sweep.
  for (size_t i = 0; i < scratch_.size(); ++i) {
    if (counts_[i].load(std::memory_order_relaxed) != scratch_[i]) {
      counts_[i].store(scratch_[i], std::memory_order_relaxed);
    }
  }
  for (size_t r = 0; r < totals.size(); ++r) {
    rule_totals_[r].store(totals[r], std::memory_order_relaxed);
  }
  counts_epoch_.store(options.rule_epoch, std::memory_order_release);
  counts_generation_.store(options.generation, std::memory_order_release);
  present_ = present;
  past_hold_ = result.past_hold;
  return result;
}

Result<BpfFlowCounters> BpfFlowTable::ReadCounters() const {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return Unavailable("count the CPUs", cpus);
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
  BpfFlowCounters out;
  for (uint32_t slot = 0; slot < NLB_FLOW_COUNTER_SLOTS; ++slot) {
    if (bpf_map_lookup_elem(counters_fd_, &slot, per_cpu.data()) != 0) {
      return Unavailable("read nlb_flow_counters", errno);
    }
    for (uint64_t c : per_cpu) out.program[slot] += c;
  }
  out.swept_expired = swept_expired_;
  out.swept_not_kept = swept_not_kept_;
  out.renumber_removed = renumber_removed_;
  out.tracked = present_[0];
  out.half_open = present_[1];
  out.half_open_past_hold = past_hold_;
  const auto evicted = [&](uint64_t added, uint64_t removed, size_t m) {
    const uint64_t in = added + user_added_[m];
    const uint64_t out_count = removed + user_removed_[m] + present_[m];
    return in > out_count ? in - out_count : 0;
  };
  out.evicted_flows = evicted(out.program[NLB_FLOW_ADDED], out.program[NLB_FLOW_REMOVED], 0);
  out.evicted_half_open =
      evicted(out.program[NLB_FLOW_HALF_OPEN_ADDED], out.program[NLB_FLOW_HALF_OPEN_REMOVED], 1);
  return out;
}

Status BpfFlowTable::Renumber(std::span<const uint8_t> old_to_new) {
  renumber_old_.clear();
  renumber_new_.clear();
  renumber_map_.assign(old_to_new.begin(), old_to_new.end());
  for (const int fd : {flows_fd_, half_open_fd_}) {
    // Copies are written after the walk: written during it, one could be met again and moved twice.
    std::vector<Entry> copies;
    const Status walked = ForEach(fd, [&](const Entry& e) {
      const uint8_t to = e.id.rule < old_to_new.size() ? old_to_new[e.id.rule] : 0xff;
      if (to == e.id.rule) return;
      renumber_old_.push_back(OldKey{fd, e.id, to >= NLB_MAX_RULES});
      if (to >= NLB_MAX_RULES) return;  // a removed rule: its flows go in FinishRenumber
      copies.push_back(e);
      copies.back().id.rule = to;
    });
    if (!walked.ok()) return walked;
    for (const Entry& copy : copies) {
      if (bpf_map_update_elem(fd, &copy.id, &copy.value, BPF_ANY) != 0) {
        return Unavailable("copy a flow to its new rule index", errno);
      }
      renumber_new_.emplace_back(fd, copy.id);
      ++user_added_[fd == flows_fd_ ? 0 : 1];
    }
  }
  return Status::Ok();
}

Status BpfFlowTable::FinishRenumber() {
  // A flow's old key is another flow's new key only if one connection was tracked under two rules
  // at once, which one numbering cannot do; skip such keys anyway rather than lose the copy.
  std::set<std::pair<int, std::array<uint8_t, sizeof(nlb_flow_id)>>> written;
  for (const auto& [fd, id] : renumber_new_) written.emplace(fd, Bytes(id));
  for (const OldKey& old : renumber_old_) {
    if (written.count({old.fd, Bytes(old.id)}) != 0) continue;
    if (bpf_map_delete_elem(old.fd, &old.id) != 0) continue;  // gone already (LRU, the program)
    ++user_removed_[old.fd == flows_fd_ ? 0 : 1];
    if (old.rule_removed) ++renumber_removed_;
  }
  renumber_old_.clear();
  renumber_new_.clear();
  // The per-rule totals follow their rules now (the per-bucket counts wait for the next Sweep,
  // which stamps them with the new numbering's epoch); a removed rule's total goes.
  std::array<uint64_t, NLB_MAX_RULES> totals{};
  for (size_t from = 0; from < renumber_map_.size() && from < totals.size(); ++from) {
    const uint8_t to = renumber_map_[from];
    if (to < NLB_MAX_RULES) totals[to] += rule_totals_[from].load(std::memory_order_relaxed);
  }
  for (size_t r = 0; r < totals.size(); ++r)
    rule_totals_[r].store(totals[r], std::memory_order_relaxed);
  renumber_map_.clear();
  return Status::Ok();
}

Status BpfFlowTable::Clear() {
  for (const int fd : {flows_fd_, half_open_fd_}) {
    const Status walked = ForEach(fd, [&](const Entry& e) {
      if (bpf_map_delete_elem(fd, &e.id) == 0) ++user_removed_[fd == flows_fd_ ? 0 : 1];
    });
    if (!walked.ok()) return walked;
  }
  present_ = {};
  past_hold_ = 0;
  return Status::Ok();
}

}  // namespace nlb::agent
