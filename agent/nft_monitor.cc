#include "agent/nft_monitor.h"

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace nlb::agent {
namespace {

// The pid an NFT_MSG_NEWGEN notification names as the change's maker; 0 if absent.
uint32_t GenerationMaker(const nlmsghdr* h) {
  const size_t header = NLMSG_SPACE(sizeof(nfgenmsg));
  if (h->nlmsg_len < header) return 0;
  const auto* base = reinterpret_cast<const uint8_t*>(h);
  size_t at = header;
  while (at + sizeof(nlattr) <= h->nlmsg_len) {
    nlattr attr;
    std::memcpy(&attr, base + at, sizeof(attr));
    if (attr.nla_len < sizeof(nlattr) || at + attr.nla_len > h->nlmsg_len) break;
    if ((attr.nla_type & NLA_TYPE_MASK) == NFTA_GEN_PROC_PID &&
        attr.nla_len >= sizeof(nlattr) + sizeof(uint32_t)) {
      uint32_t pid;
      std::memcpy(&pid, base + at + NLA_HDRLEN, sizeof(pid));
      return ntohl(pid);
    }
    at += NLA_ALIGN(attr.nla_len);
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<NftMonitor>> NftMonitor::Open(boost::asio::io_context& io,
                                                     std::function<int()> own, Changed changed) {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    return Status::Error(ErrorCode::kUnavailable,
                         std::string("nftables monitor: netlink socket: ") + std::strerror(errno));
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  const int group = NFNLGRP_NFTABLES;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return Status::Error(ErrorCode::kUnavailable, "nftables monitor: " + error);
  }
  std::unique_ptr<NftMonitor> monitor(new NftMonitor(io, fd, std::move(own), std::move(changed)));
  monitor->Wait();
  return monitor;
}

NftMonitor::NftMonitor(boost::asio::io_context& io, int fd, std::function<int()> own,
                       Changed changed)
    : socket_(io, fd), own_(std::move(own)), changed_(std::move(changed)) {}

void NftMonitor::Close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void NftMonitor::Wait() {
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;
                       Drain();
                       Wait();
                     });
}

void NftMonitor::Drain() {
  static const uint32_t self = static_cast<uint32_t>(getpid());
  std::array<uint8_t, 65536> buffer;
  bool foreign = false;
  for (;;) {
    const ssize_t n = recv(socket_.native_handle(), buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      foreign |= errno == ENOBUFS;  // notifications were lost: one may have been foreign
      if (errno == ENOBUFS) continue;
      break;
    }
    if (n == 0) break;
    size_t left = static_cast<size_t>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      const uint16_t type = NFNL_MSG_TYPE(h->nlmsg_type);
      if (NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_NFTABLES || type != NFT_MSG_NEWGEN) continue;
      const uint32_t maker = GenerationMaker(h);
      foreign |= maker != self && maker != static_cast<uint32_t>(own_());
    }
  }
  if (foreign) {
    ++foreign_changes_;
    changed_();
  }
}

}  // namespace nlb::agent
