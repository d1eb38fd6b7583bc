#include "agent/kernel_worker.h"

#include <unistd.h>

#include <boost/asio/post.hpp>

namespace nlb::agent {

KernelWorker::KernelWorker(boost::asio::io_context& io) : io_(io), thread_([this] { Run(); }) {}

KernelWorker::~KernelWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  thread_.join();
}

void KernelWorker::Submit(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(job), std::move(done));
  }
  wake_.notify_one();
}

std::optional<std::chrono::steady_clock::time_point> KernelWorker::busy_since() const {
  std::lock_guard lock(mutex_);
  return busy_since_;
}

void KernelWorker::Run() {
  thread_id_.store(static_cast<int>(gettid()));
  for (;;) {
    std::pair<Job, Done> next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
      busy_since_ = std::chrono::steady_clock::now();
    }
    const auto started = std::chrono::steady_clock::now();
    Status status = next.first();
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    {
      std::lock_guard lock(mutex_);
      busy_since_.reset();
      if (stopping_) return;
    }
    boost::asio::post(io_, [done = std::move(next.second), status = std::move(status), took] {
      done(status, took);
    });
  }
}

}  // namespace nlb::agent
