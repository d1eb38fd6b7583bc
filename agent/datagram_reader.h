// DatagramReader: reads every datagram queued on a non-blocking UDP socket in one go, each with
// the time it ARRIVED (the kernel's receive stamp), so that a loop that was late judges its
// peers' silence by when they spoke, not by when it got round to listening.
//
// ReadQueued() runs recvmmsg rounds until the socket reports EAGAIN or the batch bound is
// reached (then the caller handles the batch and reads again: the socket is still readable).
// Arrival stamps come from SO_TIMESTAMPNS (CLOCK_REALTIME), converted to the steady clock at read
// time and clamped into [the last time the queue was found empty, now]: a wall-clock step cannot
// date a datagram before the previous read or into the future. Datagrams without a stamp (the
// option refused) are stamped at read time and counted. Datagrams larger than a slot (no valid
// heartbeat or moving report is) are counted and left out.
//
// One instance per socket; not thread-safe; used from the agent's io_context thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

struct ReceivedDatagram {
  std::span<const uint8_t> bytes;  // valid until the next ReadQueued()
  IpAddress from;
  std::chrono::steady_clock::time_point arrival;
};

struct DatagramReaderCounters {
  uint64_t batches = 0;  // ReadQueued() calls that returned at least one datagram
  uint64_t datagrams = 0;
  uint64_t rounds = 0;        // recvmmsg calls
  uint64_t full_batches = 0;  // stopped at the batch bound with more possibly queued
  uint64_t largest_batch = 0;
  uint64_t unstamped = 0;       // no kernel stamp: stamped at read time
  uint64_t stamps_clamped = 0;  // kernel stamp outside [last empty read, now]
  uint64_t truncated = 0;       // larger than kDatagramSlotSize: dropped
  uint64_t read_errors = 0;     // recvmmsg failed with something else than EAGAIN
};

class DatagramReader {
 public:
  static constexpr size_t kDatagramSlotSize = 2048;  // above kMaxHeartbeatSize and report parts
  static constexpr size_t kRoundSize = 64;           // datagrams per recvmmsg call

  // REQUIRES: max_batch >= 1
  explicit DatagramReader(size_t max_batch = 256);

  // Asks the kernel to stamp arrivals on fd (SO_TIMESTAMPNS). Linux switches stamping on a few
  // milliseconds later (a deferred static key) and stamps at read time until then. Without it
  // every datagram is stamped at read time, which still works after a stall (the whole queue is
  // read before a tick) but dates queued heartbeats late.
  [[nodiscard]] static Status EnableArrivalStamps(int fd);

  // Everything queued on fd (IPv4 UDP, O_NONBLOCK or not: reads use MSG_DONTWAIT), in queue order,
  // up to max_batch. An empty span means the queue was empty. A read error other than EAGAIN
  // ends the batch early; the datagrams read before it are returned, the error is counted.
  std::span<const ReceivedDatagram> ReadQueued(int fd);

  const DatagramReaderCounters& counters() const { return counters_; }

 private:
  size_t max_batch_;
  std::vector<uint8_t> storage_;  // max_batch slots
  std::vector<ReceivedDatagram> batch_;
  std::chrono::steady_clock::time_point drained_at_{};  // the last read that found no more
  DatagramReaderCounters counters_;
};

}  // namespace nlb::agent
