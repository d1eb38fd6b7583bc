// SimNetwork: a simulated broadcast segment for convergence tests, on simulated time. Every
// datagram is broadcast to every attached endpoint (the sender included, as a real subnet
// broadcast loops back) with a random delay, so copies reorder; each copy may be lost or
// duplicated; endpoints in different partition groups do not hear each other. Deterministic for
// a given seed. Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <vector>

#include "common/convergence.h"

namespace nlb::test {

class SimNetwork {
 public:
  struct Options {
    double loss = 0.0;       // per copy, per receiver
    double duplicate = 0.0;  // chance of a second copy with its own delay
    Duration min_delay = std::chrono::microseconds(200);
    Duration max_delay = std::chrono::milliseconds(3);  // spread above min_delay: reordering
    uint64_t seed = 1;
  };
  struct Delivery {
    TimePoint at;
    int to = 0;
    // Shared by every copy of one broadcast: a 256-host broadcast is one buffer, not 256.
    std::shared_ptr<const std::vector<uint8_t>> bytes;
  };

  explicit SimNetwork(Options options) : options_(options), random_(options.seed) {}

  // REQUIRES: endpoints are attached in order 0, 1, 2...
  int Attach() {
    group_.push_back(0);
    return static_cast<int>(group_.size()) - 1;
  }
  // Endpoints hear each other only within one group; all start in group 0.
  void SetGroup(int endpoint, int group) { group_[endpoint] = group; }
  void HealPartitions() { std::fill(group_.begin(), group_.end(), 0); }
  void set_loss(double loss) { options_.loss = loss; }

  void Broadcast(int from, const std::vector<uint8_t>& bytes, TimePoint now);
  // Injects a datagram to one endpoint, as an attacker on the segment would.
  void Inject(int to, std::vector<uint8_t> bytes, TimePoint at);

  std::optional<TimePoint> NextDeliveryTime() const;
  // REQUIRES: NextDeliveryTime() has a value
  Delivery PopDelivery();

  uint64_t bytes_broadcast() const { return bytes_broadcast_; }
  uint64_t datagrams_broadcast() const { return datagrams_broadcast_; }

 private:
  struct Later {
    bool operator()(const Delivery& a, const Delivery& b) const { return a.at > b.at; }
  };
  Options options_;
  std::mt19937_64 random_;
  std::vector<int> group_;
  std::priority_queue<Delivery, std::vector<Delivery>, Later> queue_;
  uint64_t bytes_broadcast_ = 0;
  uint64_t datagrams_broadcast_ = 0;
};

}  // namespace nlb::test
