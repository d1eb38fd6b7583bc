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
                                                                const IpAddress& broadcast) {
  asio::ip::address_v4::bytes_type raw{};
  std::memcpy(raw.data(), broadcast.bytes.data(), 4);
  std::unique_ptr<HeartbeatChannel> channel(
      new HeartbeatChannel(io, udp::endpoint(asio::ip::address_v4(raw), port)));
  boost::system::error_code ec;
  auto fail = [&](const std::string& what) {
    return Status::Error(ErrorCode::kUnavailable,
                         "heartbeat socket on " + interface + " port " + std::to_string(port) +
                             ": " + what + ": " + ec.message());
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
  return channel;
}

void HeartbeatChannel::Start(Receiver receiver) {
  receiver_ = std::move(receiver);
  ReceiveNext();
}

void HeartbeatChannel::ReceiveNext() {
  socket_.async_receive_from(
      asio::buffer(buffer_), sender_, [this](const boost::system::error_code& ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
          ++receive_errors_;
        } else {
          const auto v4 = sender_.address().to_v4().to_bytes();
          receiver_(std::span<const uint8_t>(buffer_.data(), n), IpAddress::V4(v4.data()));
        }
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
