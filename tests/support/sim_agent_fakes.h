// The parts around the agent's loop that SimAgentCluster (tests/support/sim_agent.h) fakes on
// its simulated clock: the loop's clock and timers, nlbd's nftables table, the kernel worker, the
// heartbeat sink and the rest of the agent (HostLoopOwner). Single-threaded, like the simulation.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/host_loop.h"
#include "agent/kernel_programmer.h"
#include "agent/kernel_worker.h"
#include "tests/support/sim_agent.h"

namespace nlb::test {

using agent::DatagramSink;
using agent::HostLoopOwner;
using agent::KernelJobs;
using agent::KernelProgrammer;
using agent::LoopClock;
using agent::LoopTimer;

class SimTimer final : public LoopTimer {
 public:
  SimTimer(SimAgentCluster& cluster, int host) : cluster_(cluster), host_(host) {}
  ~SimTimer() override { ++*generation_; }
  void At(TimePoint when, std::function<void()> fn) override {
    const uint64_t armed = ++*generation_;
    cluster_.Schedule(std::max(when, cluster_.now()), host_,
                      [generation = generation_, armed, fn = std::move(fn)] {
                        if (*generation == armed) fn();
                      });
  }
  void Cancel() override { ++*generation_; }

 private:
  SimAgentCluster& cluster_;
  const int host_;
  std::shared_ptr<uint64_t> generation_ = std::make_shared<uint64_t>(0);
};

class SimLoopClock final : public LoopClock {
 public:
  SimLoopClock(SimAgentCluster& cluster, int host) : cluster_(cluster), host_(host) {}
  TimePoint Now() const override { return cluster_.now(); }
  void Post(std::function<void()> fn) override {
    cluster_.Schedule(cluster_.now(), host_, std::move(fn));
  }
  std::unique_ptr<LoopTimer> NewTimer() override {
    return std::make_unique<SimTimer>(cluster_, host_);
  }

 private:
  SimAgentCluster& cluster_;
  const int host_;
};

// nlbd's nftables table: nothing in it delivers, and nobody else changes it here.
class SimKernel final : public KernelProgrammer {
 public:
  Status Install() override { return Status::Ok(); }
  Result<bool> Intact() override { return true; }
  Status Repair() override { return Status::Ok(); }
  void Remove() override {}
};

// The kernel worker: one job at a time, each taking `delay`, off the loop; Done posted back.
class SimKernelJobs final : public KernelJobs {
 public:
  SimKernelJobs(SimAgentCluster& cluster, int host, Duration delay)
      : cluster_(cluster), host_(host), delay_(delay) {}
  void Submit(Job job, Done done) override {
    free_at_ = std::max(free_at_, cluster_.now()) + delay_;
    cluster_.Schedule(free_at_, -1, [this, job = std::move(job), done = std::move(done)] {
      const Status s = job();
      cluster_.Schedule(cluster_.now(), host_, [this, s, done] {
        done(s, std::chrono::duration_cast<std::chrono::microseconds>(delay_));
      });
    });
  }

 private:
  SimAgentCluster& cluster_;
  const int host_;
  const Duration delay_;
  TimePoint free_at_{};
};

class SimSink final : public DatagramSink {
 public:
  SimSink(SimNetwork& network, SimAgentCluster& cluster, int host)
      : network_(network), cluster_(cluster), host_(host) {}
  void Send(std::span<const uint8_t> datagram) override {
    last_send = cluster_.now();
    network_.Broadcast(host_, std::vector<uint8_t>(datagram.begin(), datagram.end()),
                       cluster_.now());
  }
  TimePoint last_send{};

 private:
  SimNetwork& network_;
  SimAgentCluster& cluster_;
  const int host_;
};

// The rest of the agent: an active host with every rule enabled.
class SimOwner final : public HostLoopOwner {
 public:
  HostRole role() const override { return HostRole::kActive; }
  void BeforeTick(TimePoint) override {}
  void AfterTick(const ConvergenceReport&, const ConvergenceReport&, bool changed) override {
    map_changes += changed ? 1 : 0;
  }
  void Restrict(MapSnapshot&) const override {}
  std::shared_ptr<const RuleNumbering> numbering() const override { return numbering_; }
  void NoteEvent(std::string line) override { events.push_back(std::move(line)); }

  uint64_t map_changes = 0;
  std::vector<std::string> events;

 private:
  std::shared_ptr<const RuleNumbering> numbering_ =
      std::make_shared<const RuleNumbering>(RuleNumbering{0, {"web", "mail", "telnet"}});
};

}  // namespace nlb::test
