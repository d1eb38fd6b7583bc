// NftMonitor: tells the agent, on its event loop, that some other process changed this network
// namespace's nftables ruleset (a `nft flush ruleset`, a firewall service restarting), so that
// the agent checks its own table at once instead of polling it. It listens to the kernel's
// nftables notifications (netlink group NFNLGRP_NFTABLES) and reports each new ruleset
// generation made by a thread other than this process's own (NFTA_GEN_PROC_PID names the
// thread that made the change: the main thread at start, the kernel worker later), and any lost
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
  // own: the kernel worker's thread id (KernelWorker::thread_id), besides the process's.
  static Result<std::unique_ptr<NftMonitor>> Open(boost::asio::io_context& io,
                                                  std::function<int()> own, Changed changed);
  void Close();

  uint64_t foreign_changes() const { return foreign_changes_; }

 private:
  NftMonitor(boost::asio::io_context& io, int fd, std::function<int()> own, Changed changed);
  void Wait();
  void Drain();

  boost::asio::posix::stream_descriptor socket_;
  std::function<int()> own_;
  Changed changed_;
  uint64_t foreign_changes_ = 0;
};

}  // namespace nlb::agent
