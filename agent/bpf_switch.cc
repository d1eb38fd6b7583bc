#include "agent/bpf_switch.h"

#include <algorithm>

#include "agent/bpf_connections.h"
#include "agent/table_repair.h"

namespace nlb::agent {

BpfSwitch::BpfSwitch(LoopClock& clock, SnapshotHolder& snapshots, KernelJobs& worker,
                     BpfKernel& kernel, std::string interface, std::chrono::milliseconds deadline,
                     PublisherHooks hooks)
    : clock_(clock),
      snapshots_(snapshots),
      worker_(worker),
      kernel_(kernel),
      interface_(std::move(interface)),
      deadline_(deadline),
      hooks_(std::move(hooks)),
      deadline_timer_(clock.NewTimer()) {}

BpfSwitch::~BpfSwitch() { *alive_ = false; }

void BpfSwitch::Apply(std::shared_ptr<MapSnapshot> next) {
  pending_ = std::move(next);
  if (!busy_) Step();
}

void BpfSwitch::Step() {
  std::shared_ptr<MapSnapshot> next = std::move(pending_);
  pending_ = nullptr;
  if (next == nullptr) {
    busy_ = false;
    return;
  }
  busy_ = true;
  holding_ = true;
  Arm("publishing a map into the BPF data plane");
  worker_.Submit(
      [this, next] {
        // The flows of a renumbered rule follow it (a reload), with no sweep in between.
        Status s = PublishRenumbering(kernel_, flows_, in_kernel_.get(), *next);
        if (s.ok()) in_kernel_ = next;
        return s;
      },
      [this, next, alive = alive_](Status s, std::chrono::microseconds took) {
        if (!*alive) return;
        deadline_timer_->Cancel();
        ++stats_.updates;
        stats_.last_update = took;
        stats_.slowest_update = std::max(stats_.slowest_update, took);
        if (s.ok()) {
          Recover();
          applied_generation_ = next->generation;
          // The neighbour answers and the views read the map in force from here.
          snapshots_.Publish(next);
        } else {
          // The program keeps deciding by the map before: this host must not
          // announce a map it does not serve by, so it leaves until one goes in.
          ++stats_.errors;
          Stuck("publishing a map into the BPF data plane failed: " + s.message());
        }
        holding_ = false;
        hooks_.announce();
        // The grace period the next Publish needs, now, off the announcement's path.
        worker_.Submit(
            [this] {
              kernel_.AwaitGrace();
              return Status::Ok();
            },
            [](Status, std::chrono::microseconds) {});
        Step();
      });
}

void BpfSwitch::Arm(const char* what) {
  deadline_timer_->At(clock_.Now() + deadline_, [this, what, alive = alive_] {
    if (!*alive) return;
    Stuck(std::string(what) + " has not finished within " + std::to_string(deadline_.count()) +
          " ms");
  });
}

void BpfSwitch::Stuck(const std::string& why) {
  if (stuck_) return;  // on_stuck logs it, once
  stuck_ = true;
  hooks_.on_stuck(why);
}

void BpfSwitch::Recover() {
  if (!stuck_) return;
  stuck_ = false;
  hooks_.on_recovered();
}

void BpfSwitch::RenewLease(std::chrono::steady_clock::time_point until) {
  worker_.Submit(
      [this, until] {
        const auto remaining =
            std::chrono::duration_cast<std::chrono::nanoseconds>(until - clock_.Now());
        if (remaining.count() <= 0) return Status::Ok();
        return kernel_.RenewLease(remaining);
      },
      [this, until, alive = alive_](Status s, std::chrono::microseconds) {
        if (!*alive) return;
        if (s.ok()) {
          ++stats_.lease_renewals;
          granted_ = until;
          snapshots_.SetKernelLease(until);
          return;
        }
        ++stats_.lease_errors;
        snapshots_.SetKernelLease({});
        hooks_.on_event("renewing the BPF data plane's lease failed: " + s.message());
      });
}

void BpfSwitch::Check() {
  if (checking_) return;
  checking_ = true;
  struct Outcome {
    bool repaired = false;
    BpfPlane::Counters counters;
  };
  auto outcome = std::make_shared<Outcome>();
  worker_.Submit(
      [this, outcome] {
        auto intact = kernel_.Attached();
        if (!intact.ok()) return intact.status();
        if (!intact.value()) {
          outcome->repaired = true;
          if (Status s = kernel_.Attach(); !s.ok()) return s;
        }
        auto counters = kernel_.ReadCounters();
        if (!counters.ok()) return counters.status();
        outcome->counters = counters.value();
        return Status::Ok();
      },
      [this, outcome, alive = alive_](Status s, std::chrono::microseconds took) {
        if (!*alive) return;
        checking_ = false;
        ++checks_;
        if (!s.ok()) {
          ++stats_.errors;
          Stuck("the BPF data plane's program is not attached to " + interface_ +
                " and attaching it failed: " + s.message());
          return;
        }
        counters_ = outcome->counters;
        if (outcome->repaired) {
          ++stats_.repairs;
          stats_.last_repair = took;
          hooks_.on_event("re-attached the BPF data plane's program to " + interface_ + " in " +
                          std::to_string(took.count()) + " us: it had been detached");
        }
        if (!busy_) Recover();
      });
}

void BpfSwitch::CheckTable(const std::string& why) {
  if (table_ == nullptr) return;
  RepairTable(worker_, *table_, alive_, stats_, hooks_.on_event, why);
}

}  // namespace nlb::agent
