#include "agent/datagram_reader.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace nlb::agent {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Room for SCM_TIMESTAMPNS and whatever else the kernel may add (it truncates, never overruns).
constexpr size_t kControlSize = CMSG_SPACE(sizeof(timespec)) + 64;

std::chrono::nanoseconds SinceEpoch(const timespec& t) {
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

std::chrono::nanoseconds WallNow() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return SinceEpoch(t);
}

// The steady time and the wall time of one instant. A preemption between two clock reads (tens
// of milliseconds on a loaded machine) would shift every converted stamp by as much, so the
// steady read is bracketed by two wall reads and the tightest of three tries is kept.
struct ClockPair {
  SteadyTime steady;
  std::chrono::nanoseconds wall;
};
ClockPair ReadClocks() {
  ClockPair best{};
  std::chrono::nanoseconds best_gap = std::chrono::nanoseconds::max();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::chrono::nanoseconds before = WallNow();
    const SteadyTime steady = std::chrono::steady_clock::now();
    const std::chrono::nanoseconds after = WallNow();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = {steady, before + (after - before) / 2};
    }
    if (best_gap < std::chrono::microseconds(20)) break;
  }
  return best;
}

}  // namespace

DatagramReader::DatagramReader(size_t max_batch)
    : max_batch_(std::max<size_t>(max_batch, 1)), storage_(max_batch_ * kDatagramSlotSize) {
  batch_.reserve(max_batch_);
}

Status DatagramReader::EnableArrivalStamps(int fd) {
  const int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) != 0) {
    return Status::Error(ErrorCode::kUnavailable,
                         std::string("SO_TIMESTAMPNS on the heartbeat socket: ") + strerror(errno));
  }
  return Status::Ok();
}

std::span<const ReceivedDatagram> DatagramReader::ReadQueued(int fd) {
  batch_.clear();
  std::array<mmsghdr, kRoundSize> headers{};
  std::array<iovec, kRoundSize> iovs{};
  std::array<sockaddr_in, kRoundSize> senders{};
  std::array<std::array<uint8_t, kControlSize>, kRoundSize> controls{};
  size_t used = 0;  // slots of storage_ holding datagrams of this batch
  while (used < max_batch_) {
    const size_t want = std::min(kRoundSize, max_batch_ - used);
    for (size_t i = 0; i < want; ++i) {
      iovs[i] = {storage_.data() + (used + i) * kDatagramSlotSize, kDatagramSlotSize};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = &senders[i];
      headers[i].msg_hdr.msg_namelen = sizeof(senders[i]);
      headers[i].msg_hdr.msg_iov = &iovs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
      headers[i].msg_hdr.msg_control = controls[i].data();
      headers[i].msg_hdr.msg_controllen = controls[i].size();
    }
    // Both clocks before the call: a datagram this round returns was queued before `steady`.
    const ClockPair clocks = ReadClocks();
    const SteadyTime steady = clocks.steady;
    const int n = recvmmsg(fd, headers.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    ++counters_.rounds;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        drained_at_ = steady;
      } else if (errno != EINTR) {
        ++counters_.read_errors;
      }
      break;
    }
    for (int i = 0; i < n; ++i) {
      const msghdr& h = headers[i].msg_hdr;
      if ((h.msg_flags & MSG_TRUNC) != 0) {
        ++counters_.truncated;
        continue;
      }
      SteadyTime arrival = steady;
      bool stamped = false;
      for (cmsghdr* c = CMSG_FIRSTHDR(const_cast<msghdr*>(&h)); c != nullptr;
           c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        timespec stamp{};
        std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
        const auto age = clocks.wall - SinceEpoch(stamp);
        arrival = steady - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
        stamped = true;
      }
      if (!stamped) {
        ++counters_.unstamped;
      } else if (arrival > steady || arrival < drained_at_) {
        ++counters_.stamps_clamped;
        arrival = std::clamp(arrival, std::min(drained_at_, steady), steady);
      }
      // Queue order is arrival order; clamping must not reorder what it moved.
      if (!batch_.empty()) arrival = std::max(arrival, batch_.back().arrival);
      const auto* sin = static_cast<const sockaddr_in*>(h.msg_name);
      batch_.push_back({std::span<const uint8_t>(static_cast<const uint8_t*>(h.msg_iov->iov_base),
                                                 headers[i].msg_len),
                        IpAddress::V4(reinterpret_cast<const uint8_t*>(&sin->sin_addr)), arrival});
    }
    used += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < want) {
      // A short round: the queue was empty when the call returned.
      drained_at_ = steady;
      break;
    }
  }
  if (used >= max_batch_) ++counters_.full_batches;
  if (!batch_.empty()) {
    ++counters_.batches;
    counters_.datagrams += batch_.size();
    counters_.largest_batch = std::max<uint64_t>(counters_.largest_batch, batch_.size());
  }
  return batch_;
}

}  // namespace nlb::agent
