#include "agent/heartbeat_channel.h"

#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/system/error_code.hpp>
#include <cstring>

namespace nlb::agent {

namespace asio = boost::asio;
using asio::ip::udp;

HeartbeatChannel::HeartbeatChannel(asio::io_context& io, udp::endpoint destination)
    : socket_(io), destination_(std::move(destination)) {}

Result<std::unique_ptr<HeartbeatChannel>> HeartbeatChannel::Open(asio::io_context& io,
                                                                 const std::string& interface,
                                                                 uint16_t port,
                                                                 const IpAddress& destination) {
  asio::ip::address_v4::bytes_type raw{};
  std::memcpy(raw.data(), destination.bytes.data(), 4);
  std::unique_ptr<HeartbeatChannel> channel(
      new HeartbeatChannel(io, udp::endpoint(asio::ip::address_v4(raw), port)));
  channel->destination_address_ = destination;
  boost::system::error_code ec;
  auto fail = [&](const std::string& what) {
    return Status::Error(ErrorCode::kUnavailable, "heartbeat socket on " + interface + " port " +
                                                      std::to_string(port) + ": " + what + ": " +
                                                      ec.message());
  };
  channel->socket_.open(udp::v4(), ec);
  if (ec) return fail("open");
  channel->socket_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR");
  channel->socket_.set_option(asio::socket_base::broadcast(true), ec);
  if (ec) return fail("SO_BROADCAST");
  if (setsockopt(channel->socket_.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                 static_cast<socklen_t>(interface.size())) != 0) {
    ec = boost::system::error_code(errno, boost::system::system_category());
    return fail("SO_BINDTODEVICE");
  }
  channel->socket_.bind(udp::endpoint(udp::v4(), port), ec);
  if (ec) return fail("bind");
  channel->socket_.non_blocking(true, ec);
  if (ec) return fail("O_NONBLOCK");
  const int fd = channel->socket_.native_handle();
  // Room for a few seconds of a large cluster's heartbeats while the loop is stalled: what the
  // buffer drops cannot be read later. As root the system's rmem_max does not cap it; elsewhere
  // the ordinary option is the best effort.
  const int buffer = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  }
  channel->kernel_stamps_ = DatagramReader::EnableArrivalStamps(fd).ok();
  return channel;
}

void HeartbeatChannel::Start(Receiver receiver) {
  receiver_ = std::move(receiver);
  ReceiveNext();
}

void HeartbeatChannel::ReceiveNext() {
  socket_.async_wait(asio::socket_base::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      ++receive_errors_;
    } else {
      const std::span<const ReceivedDatagram> batch = reader_.ReadQueued(socket_.native_handle());
      if (!batch.empty()) receiver_(batch);
    }
    // A full batch leaves the socket readable: the next wait returns at once, after the tick.
    ReceiveNext();
  });
}

void HeartbeatChannel::Send(std::span<const uint8_t> datagram) {
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(datagram.data(), datagram.size()), destination_, 0, ec);
  if (ec) ++send_errors_;
}

void HeartbeatChannel::Close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace nlb::agent
