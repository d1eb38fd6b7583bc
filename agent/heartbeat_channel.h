// HeartbeatChannel: the UDP socket heartbeats travel on. Sends each datagram to the destination
// computed from the cluster interface's address and prefix (its directed broadcast, see
// agent/interface_info.h) and hands everything queued on the socket to a callback as ONE batch,
// each datagram with its arrival stamp (agent/datagram_reader.h), so that the agent applies the
// whole queue before it judges anyone's silence.
//
// Bound to 0.0.0.0:<port> and to the cluster interface (SO_BINDTODEVICE), so heartbeats of other
// interfaces never reach the convergence logic. Runs on the agent's io_context thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "agent/datagram_reader.h"
#include "agent/datagram_sink.h"
#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

class HeartbeatChannel final : public DatagramSink {
 public:
  // Called with every datagram queued at the time, in arrival order; never with an empty batch.
  using Receiver = std::function<void(std::span<const ReceivedDatagram> batch)>;

  // REQUIRES: destination is IPv4.
  static Result<std::unique_ptr<HeartbeatChannel>> Open(boost::asio::io_context& io,
                                                        const std::string& interface, uint16_t port,
                                                        const IpAddress& destination);

  // Starts the receive loop; receiver is called on the io_context thread.
  void Start(Receiver receiver);
  // False when the kernel refused arrival stamps: datagrams are stamped when read.
  bool kernel_stamps() const { return kernel_stamps_; }
  const IpAddress& destination() const { return destination_address_; }
  const DatagramReaderCounters& read_counters() const { return reader_.counters(); }
  // Best effort: a failed send is counted, never thrown.
  void Send(std::span<const uint8_t> datagram) override;
  void Close();

  uint64_t send_errors() const { return send_errors_; }
  uint64_t receive_errors() const { return receive_errors_; }

 private:
  HeartbeatChannel(boost::asio::io_context& io, boost::asio::ip::udp::endpoint destination);
  void ReceiveNext();

  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint destination_;
  IpAddress destination_address_;
  DatagramReader reader_;
  bool kernel_stamps_ = false;
  Receiver receiver_;
  uint64_t send_errors_ = 0;
  uint64_t receive_errors_ = 0;
};

}  // namespace nlb::agent
