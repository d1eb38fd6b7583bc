#include "agent/fast_path_switch.h"

namespace nlb::agent {
namespace {

// fast laid out along snapshot's rules (by rule content), as AttachFastPath and the kernel take it.
std::vector<FastPathRule> AlignedTo(const MapSnapshot& snapshot,
                                    const std::vector<FastPathRule>& fast) {
  std::vector<FastPathRule> out(snapshot.rules.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].rule = snapshot.rules[i].rule;
    for (const FastPathRule& f : fast) {
      if (f.rule == out[i].rule) out[i] = f;
    }
  }
  return out;
}

std::vector<FastPathRule> NonEmpty(std::vector<FastPathRule> fast) {
  std::erase_if(fast, [](const FastPathRule& f) { return f.Empty(); });
  return fast;
}

std::vector<PortRule> RulesOf(const MapSnapshot& snapshot) {
  std::vector<PortRule> rules;
  for (const RuleMap& r : snapshot.rules) rules.push_back(r.rule);
  return rules;
}

}  // namespace

FastPathSwitch::FastPathSwitch(LoopClock& clock, SnapshotHolder& snapshots, KernelJobs& worker,
                               KernelProgrammer& kernel, std::vector<PortRule> installed_rules,
                               std::chrono::milliseconds deadline, FastPathSwitchHooks hooks)
    : clock_(clock),
      snapshots_(snapshots),
      worker_(worker),
      kernel_(kernel),
      deadline_(deadline),
      hooks_(std::move(hooks)),
      deadline_timer_(clock.NewTimer()),
      chain_rules_(std::move(installed_rules)) {}

FastPathSwitch::~FastPathSwitch() { *alive_ = false; }

void FastPathSwitch::SetEnabled(bool enabled) {
  enabled_ = enabled;
  failed_ = false;
}

uint64_t FastPathSwitch::kernel_buckets() const {
  uint64_t n = 0;
  for (const FastPathRule& f : installed_) n += f.buckets.Count();
  return n;
}

void FastPathSwitch::PublishWith(const MapSnapshot& base, const std::vector<FastPathRule>& kernel) {
  auto copy = std::make_shared<MapSnapshot>(base);
  AttachFastPath(*copy, AlignedTo(*copy, kernel));
  snapshots_.Publish(std::move(copy));
}

void FastPathSwitch::Apply(std::shared_ptr<MapSnapshot> next) {
  pending_ = std::move(next);
  if (!busy_) Step();
}

void FastPathSwitch::Submit(KernelWorker::Job job, std::function<void(Status)> done,
                            bool deadline) {
  busy_ = true;
  if (deadline) Arm("a kernel update");
  worker_.Submit(std::move(job), [this, alive = alive_, done = std::move(done)](
                                     Status s, std::chrono::microseconds took) {
    if (!*alive) return;
    deadline_timer_->Cancel();
    Record(took);
    Recover();
    done(s);
  });
}

void FastPathSwitch::Arm(const char* what) {
  deadline_timer_->At(clock_.Now() + deadline_, [this, what, alive = alive_] {
    if (!*alive) return;
    stuck_ = true;
    hooks_.on_stuck(std::string(what) + " has not finished within " +
                    std::to_string(deadline_.count()) + " ms");
  });
}

void FastPathSwitch::Recover() {
  if (!stuck_) return;
  stuck_ = false;
  hooks_.on_recovered();
}

void FastPathSwitch::Record(std::chrono::microseconds took) {
  ++stats_.updates;
  stats_.last_update = took;
  stats_.slowest_update = std::max(stats_.slowest_update, took);
}

void FastPathSwitch::Step() {
  std::shared_ptr<MapSnapshot> next = std::move(pending_);
  pending_ = nullptr;
  if (next == nullptr) {
    busy_ = false;
    holding_ = false;
    return;
  }
  std::vector<FastPathRule> desired;
  if (enabled()) desired = NonEmpty(ComputeFastPath(*next));
  const std::vector<PortRule> rules = RulesOf(*next);
  const std::shared_ptr<const MapSnapshot> current = snapshots_.Load();
  // A snapshot without rules (no map yet) changes no chain: the kernel just delivers nothing.
  if (!rules.empty() && rules != chain_rules_) {
    // Steps 1-3 with the whole chain: the data path delivers everything meanwhile.
    holding_ = true;
    PublishWith(*current, {});
    Submit([this, rules] { return kernel_.SetRules(rules); },
           [this, next, desired, rules](Status s) {
             if (!s.ok()) return Fail(s, next);
             installed_.clear();
             chain_rules_ = rules;
             Finish(next, desired);
           },
           /*deadline=*/true);
    return;
  }
  const std::vector<FastPathRule> keep =
      NonEmpty(IntersectFastPath(AlignedTo(*next, desired), installed_));
  if (keep != installed_) {
    holding_ = true;
    PublishWith(*current, keep);  // step 1
    Submit([this, aligned = AlignedTo(*next, keep)] { return kernel_.SetBuckets(aligned); },
           [this, next, desired, keep](Status s) {
             if (!s.ok()) return Fail(s, next);
             installed_ = keep;
             Finish(next, desired);
           },
           /*deadline=*/true);
    return;
  }
  PublishWith(*next, installed_);
  holding_ = false;
  hooks_.announce();
  Grow(next, desired);
}

// Steps 3 and 4, after a cut.
void FastPathSwitch::Finish(std::shared_ptr<MapSnapshot> next, std::vector<FastPathRule> desired) {
  auto publish = [this, next, desired, alive = alive_] {
    if (!*alive) return;
    deadline_timer_->Cancel();
    Recover();
    PublishWith(*next, installed_);
    holding_ = false;
    hooks_.announce();
    Grow(next, desired);
  };
  if (data_path_ == nullptr) return publish();
  busy_ = true;
  Arm("the data path's drained round after a kernel cut");
  data_path_->RequestDrainedRound([this, publish, alive = alive_] {
    // On the data path's thread: only post.
    clock_.Post(publish);
  });
}

void FastPathSwitch::Grow(std::shared_ptr<MapSnapshot> next, std::vector<FastPathRule> desired) {
  if (pending_ != nullptr || desired == installed_ || !enabled()) return Step();
  Submit([this, aligned = AlignedTo(*next, desired)] { return kernel_.SetBuckets(aligned); },
         [this, next, desired](Status s) {
           if (!s.ok()) return Fail(s, next);
           installed_ = desired;
           if (pending_ == nullptr) PublishWith(*next, installed_);  // step 5
           Step();
         },
         /*deadline=*/false);
}

void FastPathSwitch::Fail(const Status& s, std::shared_ptr<MapSnapshot> next) {
  ++stats_.errors;
  failed_ = true;
  hooks_.on_event(
      "kernel fast path off until the next reload, the data path delivers "
      "everything: " +
      s.message());
  // The kernel may keep sets whose owners are no longer this host's: empty them.
  PublishWith(*next, {});
  Submit([this, rules = RulesOf(*next)] { return kernel_.SetRules(rules); },
         [this, rules = RulesOf(*next), next](Status t) {
           if (t.ok()) {
             chain_rules_ = rules;
             installed_.clear();
           } else {
             hooks_.on_event("emptying the kernel fast path failed too: " + t.message());
           }
           if (pending_ == nullptr) pending_ = next;
           holding_ = false;
           hooks_.announce();
           Step();
         },
         /*deadline=*/true);
}

void FastPathSwitch::RenewLease(std::chrono::steady_clock::time_point until) {
  worker_.Submit(
      [this, until] {
        const auto remaining =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_.Now());
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
        CheckKernel("renewing the kernel lease failed: " + s.message());
      });
}

void FastPathSwitch::CheckKernel(const std::string& why) {
  // Until the check is done the data path delivers everything itself: duplicates at worst.
  snapshots_.SetKernelLease({});
  auto repaired = std::make_shared<bool>(false);
  worker_.Submit(
      [this, repaired, granted = granted_] {
        const auto remaining =
            std::chrono::duration_cast<std::chrono::milliseconds>(granted - clock_.Now());
        // Renewing the lease fails at once when the table is gone (a flushed ruleset): repair
        // without the listing, which costs a fetch of every set.
        if (kernel_.RenewLease(remaining).ok()) {
          auto intact = kernel_.Intact();
          if (intact.ok() && intact.value()) return Status::Ok();
        }
        *repaired = true;
        if (Status s = kernel_.Repair(); !s.ok()) return s;
        return kernel_.RenewLease(
            std::chrono::duration_cast<std::chrono::milliseconds>(granted - clock_.Now()));
      },
      [this, why, repaired, alive = alive_](Status s, std::chrono::microseconds took) {
        if (!*alive) return;
        if (!s.ok()) {
          ++stats_.errors;
          hooks_.on_event("repairing the kernel state failed (" + why + "): " + s.message() +
                          "; the data path delivers everything");
          return;
        }
        if (*repaired) {
          ++stats_.repairs;
          stats_.last_repair = took;
          hooks_.on_event("repaired the kernel state in " + std::to_string(took.count() / 1000) +
                          " ms: it had been removed or altered (" + why + ")");
        }
        snapshots_.SetKernelLease(granted_);
      });
}

}  // namespace nlb::agent
