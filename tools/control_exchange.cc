#include "tools/control_exchange.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <istream>
#include <type_traits>

#include "common/control_tls.h"

namespace nlb {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::local::stream_protocol;

// A reply is one JSON line; a larger one means something other than nlbd is talking.
constexpr size_t kMaxReplyBytes = 4 * 1024 * 1024;

enum class Phase : uint8_t { kConnecting, kHandshake, kTalking, kDone };

// One conversation on one stream type: connect, (handshake,) write, read a line. The deadline
// timer closes the socket, which ends whatever operation is pending.
template <typename Stream, typename Endpoint>
class Conversation {
 public:
  Conversation(asio::io_context& io, Stream& stream, std::string target,
               std::chrono::milliseconds timeout)
      : io_(io),
        stream_(stream),
        timer_(io),
        target_(std::move(target)),
        timeout_(timeout),
        buffer_(kMaxReplyBytes) {}

  ExchangeResult Run(const Endpoint& endpoint, std::string request) {
    request_ = std::move(request) + "\n";
    timer_.expires_after(timeout_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && phase_ != Phase::kDone) OnDeadline();
    });
    Lowest().async_connect(endpoint,
                           [this](const boost::system::error_code& ec) { OnConnected(ec); });
    io_.run();
    return result_;
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, asio::ssl::stream<tcp::socket>>;

  auto& Lowest() {
    if constexpr (kTls) {
      return stream_.lowest_layer();
    } else {
      return stream_;
    }
  }

  void Finish(ControlExit transport, std::string error) {
    if (phase_ == Phase::kDone) return;
    phase_ = Phase::kDone;
    result_.transport = transport;
    result_.error = std::move(error);
    timer_.cancel();
    boost::system::error_code ignored;
    Lowest().close(ignored);
  }

  void OnDeadline() {
    const std::string ms = std::to_string(timeout_.count()) + " ms";
    if (phase_ == Phase::kConnecting) {
      Finish(ControlExit::kUnreachable,
             target_ + " unreachable: no answer to connect within " + ms);
    } else {
      Finish(ControlExit::kTimedOut, target_ +
                                         " accepted the connection but did not reply "
                                         "within " +
                                         ms + " (timed out)");
    }
  }

  void OnConnected(const boost::system::error_code& ec) {
    if (phase_ == Phase::kDone) return;
    if (ec) {
      std::string hint;
      if (ec == asio::error::access_denied) hint = " (the local socket is root's: run as root)";
      if (ec == asio::error::not_found || ec == boost::system::errc::no_such_file_or_directory) {
        hint = " (is nlbd running? is --config or --socket right?)";
      }
      Finish(ControlExit::kUnreachable, target_ + " unreachable: " + ec.message() + hint);
      return;
    }
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      stream_.async_handshake(
          asio::ssl::stream_base::client,
          [this](const boost::system::error_code& hs_ec) { OnHandshake(hs_ec); });
      return;
    }
    Send();
  }

  void OnHandshake(const boost::system::error_code& ec) {
    if (phase_ == Phase::kDone) return;
    if (ec) {
      std::string reason = TakeOpenSslError();
      if (reason.empty()) reason = ec.message();
      Finish(ControlExit::kRefused,
             target_ + " refused the TLS handshake (" + reason +
                 "): the cluster key differs from the agent's, or the agent is delaying this "
                 "address after failed attempts");
      return;
    }
    Send();
  }

  void Send() {
    phase_ = Phase::kTalking;
    asio::async_write(
        stream_, asio::buffer(request_), [this](const boost::system::error_code& ec, size_t) {
          if (phase_ == Phase::kDone) return;
          if (ec) {
            Finish(ControlExit::kUnreachable,
                   target_ + ": connection lost while sending: " + ec.message());
            return;
          }
          asio::async_read_until(
              stream_, buffer_, '\n',
              [this](const boost::system::error_code& read_ec, size_t) { OnReply(read_ec); });
        });
  }

  void OnReply(const boost::system::error_code& ec) {
    if (phase_ == Phase::kDone) return;
    if (ec) {
      Finish(ControlExit::kInternal,
             target_ + " closed the connection without a complete reply (" + ec.message() + ")");
      return;
    }
    std::istream in(&buffer_);
    std::getline(in, result_.reply);
    Finish(ControlExit::kOk, "");
  }

  asio::io_context& io_;
  Stream& stream_;
  asio::steady_timer timer_;
  std::string target_;
  std::chrono::milliseconds timeout_;
  asio::streambuf buffer_;
  std::string request_;
  Phase phase_ = Phase::kConnecting;
  ExchangeResult result_;
};

std::string EndpointText(const IpAddress& address, uint16_t port) {
  const std::string text = address.ToString();
  return (address.is_v6() ? "[" + text + "]" : text) + ":" + std::to_string(port);
}

}  // namespace

ControlTarget ControlTarget::Local(std::string path) {
  ControlTarget t;
  t.socket_path = std::move(path);
  return t;
}

ControlTarget ControlTarget::Remote(const IpAddress& address, uint16_t port,
                                    const ControlPsk& psk) {
  ControlTarget t;
  t.address = address;
  t.port = port;
  t.psk = psk;
  return t;
}

std::string ControlTarget::Describe() const {
  return socket_path.empty() ? EndpointText(address, port) : socket_path;
}

ExchangeResult ExchangeControlRequest(const ControlTarget& target, std::string_view request,
                                      std::chrono::milliseconds timeout) {
  // Asio reports through exceptions only for resource exhaustion here; this is the edge.
  try {
    asio::io_context io;
    if (!target.socket_path.empty()) {
      stream_protocol::socket socket(io);
      Conversation<stream_protocol::socket, stream_protocol::endpoint> talk(
          io, socket, "local agent socket " + target.socket_path, timeout);
      return talk.Run(stream_protocol::endpoint(target.socket_path), std::string(request));
    }
    asio::ssl::context tls(asio::ssl::context::tls_client);
    const Status configured =
        ConfigureControlTls(tls.native_handle(), ControlTlsRole::kClient, &target.psk);
    if (!configured.ok()) return {ControlExit::kInternal, "", configured.message()};
    asio::ssl::stream<tcp::socket> stream(io, tls);
    boost::system::error_code ec;
    const asio::ip::address address = asio::ip::make_address(target.address.ToString(), ec);
    if (ec) return {ControlExit::kUnreachable, "", target.Describe() + ": not an address"};
    Conversation<asio::ssl::stream<tcp::socket>, tcp::endpoint> talk(
        io, stream, "host " + target.Describe(), timeout);
    return talk.Run(tcp::endpoint(address, target.port), std::string(request));
  } catch (const std::exception& e) {
    return {ControlExit::kInternal, "", target.Describe() + ": " + e.what()};
  }
}

}  // namespace nlb
