#include "tests/support/sim_network.h"

namespace nlb::test {

void SimNetwork::Broadcast(int from, const std::vector<uint8_t>& bytes, TimePoint now) {
  bytes_broadcast_ += bytes.size();
  ++datagrams_broadcast_;
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  const auto spread = std::chrono::duration_cast<std::chrono::microseconds>(options_.max_delay -
                                                                            options_.min_delay);
  std::uniform_int_distribution<int64_t> delay_us(0, std::max<int64_t>(0, spread.count()));
  const auto shared = std::make_shared<const std::vector<uint8_t>>(bytes);
  for (int to = 0; to < static_cast<int>(group_.size()); ++to) {
    if (group_[to] != group_[from]) continue;
    const int copies = chance(random_) < options_.duplicate ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      if (to != from && chance(random_) < options_.loss) continue;
      const TimePoint at = now + options_.min_delay + std::chrono::microseconds(delay_us(random_));
      queue_.push({at, to, shared});
    }
  }
}

void SimNetwork::Inject(int to, std::vector<uint8_t> bytes, TimePoint at) {
  queue_.push({at, to, std::make_shared<const std::vector<uint8_t>>(std::move(bytes))});
}

std::optional<TimePoint> SimNetwork::NextDeliveryTime() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.top().at;
}

SimNetwork::Delivery SimNetwork::PopDelivery() {
  Delivery d = queue_.top();
  queue_.pop();
  return d;
}

}  // namespace nlb::test
