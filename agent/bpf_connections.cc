#include "agent/bpf_connections.h"

#include <algorithm>
#include <vector>

#include "common/port_rule.h"
#include "common/rule_numbering.h"

namespace nlb::agent {

Status PublishRenumbering(BpfKernel& kernel, BpfFlowTable* table, const MapSnapshot* previous,
                          const MapSnapshot& next) {
  const bool renumber = table != nullptr && previous != nullptr && previous->numbering != nullptr &&
                        next.numbering != nullptr &&
                        previous->numbering->epoch != next.numbering->epoch;
  if (!renumber) return kernel.Publish(next);
  RuleRemap remap{};
  RuleRemapBetween(*previous->numbering, *next.numbering, &remap);
  if (Status s = table->Renumber(remap); !s.ok()) return s;
  const Status published = kernel.Publish(next);
  // Even when the Publish failed: Renumber's copies are written, and the next Publish (a new
  // numbering again, from the same previous) renumbers from the old keys anew. Losing the old
  // keys then only untracks the flows of a host that leaves the cluster meanwhile.
  const Status finished = table->FinishRenumber();
  return published.ok() ? finished : published;
}

BpfConnections::BpfConnections(KernelJobs& worker, BpfFlowTable& table, InKernel in_kernel,
                               std::chrono::nanoseconds half_open_hold)
    : worker_(worker),
      table_(table),
      in_kernel_(std::move(in_kernel)),
      half_open_hold_ns_(static_cast<uint64_t>(std::max<int64_t>(half_open_hold.count(), 0))) {}

BpfConnections::Clock::duration BpfConnections::Interval(bool holding, Clock::duration last_sweep) {
  if (!holding) return kSteadyPeriod;
  return std::max<Clock::duration>(kHoldingPeriod, kDurationsApart * last_sweep);
}

void BpfConnections::Poll(Clock::time_point now, bool holding) {
  if (sweeping_ || now - last_end_ < Interval(holding, last_sweep_)) return;
  sweeping_ = true;
  struct Outcome {
    bool swept = false;
    BpfFlowCounters counters;
  };
  auto outcome = std::make_shared<Outcome>();
  worker_.Submit(
      [this, outcome] {
        const std::shared_ptr<const MapSnapshot> map = in_kernel_();
        if (map == nullptr) return Status::Ok();  // no map yet: the program tracks nothing
        BpfSweepOptions options;
        // The data path's rule (agent/data_path.cc, DataPath::Sweep): keep the flows of buckets
        // this host owns or still serves while they move.
        options.keep = [&map](uint32_t rule, uint32_t bucket) {
          if (!map->serving || rule >= map->rules.size()) return false;
          const RuleMap& r = map->rules[rule];
          if (bucket >= r.bucket_owner.size()) return false;
          return r.bucket_owner[bucket] == map->local_host_id ||
                 (r.moving != nullptr && r.moving->Contains(bucket));
        };
        std::vector<ClientKey> keys;
        keys.reserve(map->rules.size());
        for (const RuleMap& r : map->rules) keys.push_back(ClientKeyOf(r.rule));
        options.rule_keys = keys;
        options.rule_epoch = map->numbering != nullptr ? map->numbering->epoch : 0;
        options.generation = map->generation;
        options.half_open_hold_ns = half_open_hold_ns_;
        auto swept = table_.Sweep(options);
        if (!swept.ok()) return swept.status();
        auto counters = table_.ReadCounters();
        if (!counters.ok()) return counters.status();
        outcome->swept = true;
        outcome->counters = counters.value();
        return Status::Ok();
      },
      [this, outcome, alive = alive_](Status s, std::chrono::microseconds took) {
        if (!*alive) return;
        sweeping_ = false;
        last_end_ = Clock::now();
        if (!s.ok()) {
          ++errors_;
          last_error_ = s.message();
          return;
        }
        if (!outcome->swept) return;
        ++sweeps_;
        last_sweep_ = took;
        slowest_sweep_ = std::max(slowest_sweep_, took);
        counters_ = outcome->counters;
      });
}

void BpfConnections::ReadCounters() {
  if (sweeping_ || reading_) return;  // a sweep reads them too
  reading_ = true;
  auto counters = std::make_shared<BpfFlowCounters>();
  worker_.Submit(
      [this, counters] {
        auto read = table_.ReadCounters();
        if (!read.ok()) return read.status();
        *counters = read.value();
        return Status::Ok();
      },
      [this, counters, alive = alive_](Status s, std::chrono::microseconds) {
        if (!*alive) return;
        reading_ = false;
        if (!s.ok()) {
          ++errors_;
          last_error_ = s.message();
          return;
        }
        counters_ = *counters;
      });
}

}  // namespace nlb::agent
