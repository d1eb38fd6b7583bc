// KernelWorker: the thread on which nlbd programs the kernel, so that its event loop never waits
// for netlink: heartbeats, convergence and nlbctl go on while a map switch is being written. Jobs
// run one at a time in the order submitted; each one's completion is posted back to the loop
// with its status and duration. The loop enforces deadlines itself (busy_since): a job that
// hangs never holds the loop.
//
// Submit, busy_since and the destructor: the loop's thread. Jobs: the worker's thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/status.h"

namespace nlb::agent {

// What the MapPublishers need of a worker: jobs run one at a time in order, off the loop, each
// one's Done posted back to the loop (a fake in tests runs them on simulated time).
class KernelJobs {
 public:
  using Job = std::function<Status()>;
  using Done = std::function<void(Status, std::chrono::microseconds)>;
  virtual ~KernelJobs() = default;
  virtual void Submit(Job job, Done done) = 0;
};

class KernelWorker final : public KernelJobs {
 public:
  explicit KernelWorker(boost::asio::io_context& io);
  // Finishes the running job, drops the queued ones (their Done never runs) and joins.
  ~KernelWorker() override;
  KernelWorker(const KernelWorker&) = delete;
  KernelWorker& operator=(const KernelWorker&) = delete;

  void Submit(Job job, Done done) override;
  // The worker thread's kernel id (gettid): nftables names it as the maker of its changes.
  int thread_id() const { return thread_id_.load(); }
  // When the job running now started; nullopt while idle.
  std::optional<std::chrono::steady_clock::time_point> busy_since() const;

 private:
  void Run();

  boost::asio::io_context& io_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<Job, Done>> queue_;
  std::optional<std::chrono::steady_clock::time_point> busy_since_;
  bool stopping_ = false;
  std::atomic<int> thread_id_{0};
  std::thread thread_;
};

}  // namespace nlb::agent
