// HandshakeThrottle: slows down an address that keeps failing the remote control handshake, so
// that guessing the cluster key from one machine costs time, with bounded memory.
//
// Policy: an address's first `free_failures` failures cost nothing (a mistyped --host, an old
// key); each further one doubles its wait, from `first_delay` up to `max_delay`, counted from its
// latest failure. A successful handshake forgets the address; so does `forget_after` without a
// failure. At most `max_addresses` are remembered: when full, expired entries go first, then the
// one whose latest failure is oldest. Time is passed in, so tests run on simulated time.
// Not thread-safe: used on the agent's io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

#include "common/ip_address.h"

namespace nlb::agent {

class HandshakeThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  struct Policy {
    uint32_t free_failures = 3;
    Clock::duration first_delay = std::chrono::seconds(1);
    Clock::duration max_delay = std::chrono::seconds(64);
    Clock::duration forget_after = std::chrono::minutes(10);
    size_t max_addresses = 1024;  // REQUIRES: >= 1
  };

  HandshakeThrottle() : HandshakeThrottle(Policy{}) {}
  explicit HandshakeThrottle(Policy policy) : policy_(policy) {}

  // How long address must still wait before its next handshake; zero when it may go ahead.
  Clock::duration Wait(const IpAddress& address, Clock::time_point now) const;
  void RecordFailure(const IpAddress& address, Clock::time_point now);
  void RecordSuccess(const IpAddress& address) { entries_.erase(address); }

  size_t tracked_addresses() const { return entries_.size(); }

 private:
  struct Entry {
    uint32_t failures = 0;
    Clock::time_point last_failure;
  };
  Clock::duration DelayAfter(uint32_t failures) const;
  void MakeRoom(Clock::time_point now);

  Policy policy_;
  std::map<IpAddress, Entry> entries_;
};

}  // namespace nlb::agent
