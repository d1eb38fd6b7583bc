#include "agent/neighbour_responder.h"

#include <netpacket/packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace nlb::agent {

Result<std::unique_ptr<NeighbourResponder>> NeighbourResponder::Open(
    uint32_t interface_index, const NeighbourIdentity& identity, std::vector<IpAddress> vips) {
  // Protocol 0: a send-only socket that never queues received frames.
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::Error(ErrorCode::kPermission,
                         std::string("packet socket for neighbour answers: ") +
                             std::strerror(errno));
  }
  return std::unique_ptr<NeighbourResponder>(
      new NeighbourResponder(fd, interface_index, identity, std::move(vips)));
}

NeighbourResponder::~NeighbourResponder() { close(fd_); }

bool NeighbourResponder::Send(const uint8_t* frame, size_t length) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(index_);
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, frame, 6);
  const ssize_t sent =
      sendto(fd_, frame, length, 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  if (sent != static_cast<ssize_t>(length)) {
    send_errors_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void NeighbourResponder::Answer(const ParsedPacket& request) {
  std::array<uint8_t, kNeighbourFrameCapacity> frame;
  const size_t length = BuildNeighbourAnswer(identity_, request, frame);
  if (length == 0) return;
  if (Send(frame.data(), length)) answers_.fetch_add(1, std::memory_order_relaxed);
}

void NeighbourResponder::Announce() {
  std::array<uint8_t, kNeighbourFrameCapacity> frame;
  for (const IpAddress& vip : vips_) {
    size_t length = 0;
    if (vip.is_v4()) length = BuildGratuitousArp(identity_, vip, frame);
    if (vip.is_v6()) length = BuildUnsolicitedAdvertisement(identity_, vip, frame);
    if (length != 0 && Send(frame.data(), length)) {
      announcements_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace nlb::agent
