// NftMonitor: tells the agent, on its event loop, that some other process changed this network
// namespace's nftables ruleset (a `nft flush ruleset`, a firewall service restarting), so that
// the agent checks its own table at once instead of polling it. It listens to the kernel's
// nftables notifications (netlink group NFNLGRP_NFTABLES) and reports each new ruleset
// generation made by a process other than this one (NFTA_GEN_PROC_PID), and any lost
// notifications (the socket overran), which may have hidden one.
//
// Io_context thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>

#include "common/status.h"

namespace nlb::agent {

class NftMonitor {
 public:
  using Changed = std::function<void()>;
  static Result<std::unique_ptr<NftMonitor>> Open(boost::asio::io_context& io, Changed changed);
  void Close();

  uint64_t foreign_changes() const { return foreign_changes_; }

 private:
  NftMonitor(boost::asio::io_context& io, int fd, Changed changed);
  void Wait();
  void Drain();

  boost::asio::posix::stream_descriptor socket_;
  Changed changed_;
  uint64_t foreign_changes_ = 0;
};

}  // namespace nlb::agent
