// NeighbourResponder: tells clients that the VIPs live at the cluster MAC. Answers the ARP requests
// and neighbour solicitations the decision hands over (Verdict::kNeighbour), and announces every
// VIP (gratuitous ARP, unsolicited neighbour advertisement) on demand: the agent calls Announce
// after start and after every convergence. Frames come from common/neighbour_frames.h.
//
// Sends on its own packet socket, not on the capture's handle, so that Answer (data path thread)
// and Announce (control thread) may run at the same time: each builds its frame on the stack and
// makes one sendto(). Neither allocates. Counters are atomics, readable from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/ip_address.h"
#include "common/neighbour_frames.h"
#include "common/packet.h"
#include "common/status.h"

namespace nlb::agent {

class NeighbourResponder {
 public:
  static Result<std::unique_ptr<NeighbourResponder>> Open(uint32_t interface_index,
                                                          const NeighbourIdentity& identity,
                                                          std::vector<IpAddress> vips);
  ~NeighbourResponder();
  NeighbourResponder(const NeighbourResponder&) = delete;
  NeighbourResponder& operator=(const NeighbourResponder&) = delete;

  // Answers one request the decision classified as kNeighbour. Failures are counted.
  void Answer(const ParsedPacket& request);
  // One gratuitous ARP per IPv4 VIP, one unsolicited advertisement per IPv6 VIP.
  void Announce();

  uint64_t answers() const { return answers_.load(std::memory_order_relaxed); }
  uint64_t announcements() const { return announcements_.load(std::memory_order_relaxed); }
  uint64_t send_errors() const { return send_errors_.load(std::memory_order_relaxed); }

 private:
  NeighbourResponder(int fd, uint32_t index, const NeighbourIdentity& identity,
                     std::vector<IpAddress> vips)
      : fd_(fd), index_(index), identity_(identity), vips_(std::move(vips)) {}
  bool Send(const uint8_t* frame, size_t length);

  int fd_;
  uint32_t index_;
  NeighbourIdentity identity_;
  std::vector<IpAddress> vips_;
  std::atomic<uint64_t> answers_{0};
  std::atomic<uint64_t> announcements_{0};
  std::atomic<uint64_t> send_errors_{0};
};

}  // namespace nlb::agent
