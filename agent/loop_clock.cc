#include "agent/loop_clock.h"

#include <boost/asio/post.hpp>

namespace nlb::agent {
namespace {

class AsioLoopTimer final : public LoopTimer {
 public:
  explicit AsioLoopTimer(boost::asio::io_context& io) : timer_(io) {}
  void At(std::chrono::steady_clock::time_point when, std::function<void()> fn) override {
    timer_.expires_at(when);
    timer_.async_wait([fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  }
  void Cancel() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace

void AsioLoopClock::Post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

std::unique_ptr<LoopTimer> AsioLoopClock::NewTimer() {
  return std::make_unique<AsioLoopTimer>(io_);
}

}  // namespace nlb::agent
