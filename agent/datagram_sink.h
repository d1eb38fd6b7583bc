// DatagramSink: where the agent's loop sends its heartbeats and moving reports (the
// HeartbeatChannel in nlbd, a simulated network in tests). Loop thread only.
#pragma once

#include <cstdint>
#include <span>

namespace nlb::agent {

class DatagramSink {
 public:
  virtual ~DatagramSink() = default;
  // Errors are the sink's to count: a lost heartbeat is what the protocol tolerates.
  virtual void Send(std::span<const uint8_t> datagram) = 0;
};

}  // namespace nlb::agent
