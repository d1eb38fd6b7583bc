// LoopClock: the time and the deferred work of the agent's event loop, behind an interface so
// that the agent's glue (agent/host_loop.h, agent/bpf_switch.h) runs on real time under
// Asio in nlbd (AsioLoopClock) and on simulated time in tests (tests/support/sim_agent.h),
// where a stalled loop, a slow kernel and queued heartbeats are events of a simulated clock.
//
// Now: any thread (the kernel worker's jobs read it too). Post, timers: the loop's thread only;
// what they run runs on the loop's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace nlb::agent {

// One-shot alarm. Arming it again replaces the pending one; Cancel and destruction drop it
// (its function then never runs).
class LoopTimer {
 public:
  virtual ~LoopTimer() = default;
  virtual void At(std::chrono::steady_clock::time_point when, std::function<void()> fn) = 0;
  virtual void Cancel() = 0;
};

class LoopClock {
 public:
  virtual ~LoopClock() = default;
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  // Runs fn on the loop's thread soon; the only call another thread may make besides Now.
  virtual void Post(std::function<void()> fn) = 0;
  virtual std::unique_ptr<LoopTimer> NewTimer() = 0;
};

// The real loop: steady_clock and an io_context.
class AsioLoopClock final : public LoopClock {
 public:
  explicit AsioLoopClock(boost::asio::io_context& io) : io_(io) {}
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }
  void Post(std::function<void()> fn) override;
  std::unique_ptr<LoopTimer> NewTimer() override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace nlb::agent
