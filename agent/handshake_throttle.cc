#include "agent/handshake_throttle.h"

#include <algorithm>

namespace nlb::agent {

HandshakeThrottle::Clock::duration HandshakeThrottle::DelayAfter(uint32_t failures) const {
  if (failures <= policy_.free_failures) return Clock::duration::zero();
  Clock::duration delay = policy_.first_delay;
  for (uint32_t i = policy_.free_failures + 1; i < failures && delay < policy_.max_delay; ++i) {
    delay *= 2;
  }
  return std::min(delay, policy_.max_delay);
}

HandshakeThrottle::Clock::duration HandshakeThrottle::Wait(const IpAddress& address,
                                                           Clock::time_point now) const {
  const auto it = entries_.find(address);
  if (it == entries_.end()) return Clock::duration::zero();
  const Clock::time_point allowed = it->second.last_failure + DelayAfter(it->second.failures);
  return allowed > now ? allowed - now : Clock::duration::zero();
}

void HandshakeThrottle::RecordFailure(const IpAddress& address, Clock::time_point now) {
  auto it = entries_.find(address);
  if (it != entries_.end() && now - it->second.last_failure >= policy_.forget_after) {
    it->second.failures = 0;
  }
  if (it == entries_.end()) {
    MakeRoom(now);
    it = entries_.emplace(address, Entry{}).first;
  }
  ++it->second.failures;
  it->second.last_failure = now;
}

void HandshakeThrottle::MakeRoom(Clock::time_point now) {
  if (entries_.size() < policy_.max_addresses) return;
  std::erase_if(entries_, [&](const auto& entry) {
    return now - entry.second.last_failure >= policy_.forget_after;
  });
  while (entries_.size() >= policy_.max_addresses) {
    const auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.last_failure < b.second.last_failure; });
    entries_.erase(oldest);
  }
}

}  // namespace nlb::agent
