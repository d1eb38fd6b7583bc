// HeartbeatChannel: the UDP socket heartbeats travel on. Sends each datagram to the cluster
// interface's subnet broadcast and hands every received datagram to a callback.
//
// Bound to 0.0.0.0:<port> and to the cluster interface (SO_BINDTODEVICE), so heartbeats of other
// interfaces never reach the convergence logic. Runs on the agent's io_context thread only.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

class HeartbeatChannel {
 public:
  using Receiver = std::function<void(std::span<const uint8_t> datagram, const IpAddress& from)>;

  // REQUIRES: broadcast is IPv4.
  static Result<std::unique_ptr<HeartbeatChannel>> Open(boost::asio::io_context& io,
                                                        const std::string& interface,
                                                        uint16_t port, const IpAddress& broadcast);

  // Starts the receive loop; receiver is called on the io_context thread.
  void Start(Receiver receiver);
  // Best effort: a failed send is counted, never thrown.
  void Send(std::span<const uint8_t> datagram);
  void Close();

  uint64_t send_errors() const { return send_errors_; }
  uint64_t receive_errors() const { return receive_errors_; }

 private:
  HeartbeatChannel(boost::asio::io_context& io, boost::asio::ip::udp::endpoint destination);
  void ReceiveNext();

  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint destination_;
  boost::asio::ip::udp::endpoint sender_;
  std::array<uint8_t, 65536> buffer_{};
  Receiver receiver_;
  uint64_t send_errors_ = 0;
  uint64_t receive_errors_ = 0;
};

}  // namespace nlb::agent
