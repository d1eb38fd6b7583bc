#include "agent/remote_control_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <istream>

#include "agent/log.h"
#include "common/control_psk.h"
#include "common/control_request.h"
#include "common/control_tls.h"
#include "common/json_writer.h"

namespace nlb::agent {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr size_t kMaxRequestBytes = kMaxControlRequestBytes;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr std::string_view kLogComponent = "control";

IpAddress ToIpAddress(const asio::ip::address& address) {
  if (address.is_v4()) return IpAddress::V4(address.to_v4().to_bytes().data());
  return IpAddress::V6(address.to_v6().to_bytes().data());
}

std::string ErrorReply(uint16_t host_id, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(false);
  if (host_id != 0) w.Key("host").Uint(host_id);
  w.Key("code").String(code).Key("error").String(message).EndObject();
  return w.str();
}
}  // namespace

struct RemoteControlServer::State {
  State(asio::io_context& io_context, Handler h, Options o)
      : io(io_context),
        acceptor(io_context),
        retry_timer(io_context),
        tls(asio::ssl::context::tls_server),
        handler(std::move(h)),
        options(o),
        throttle(o.throttle) {}

  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  ControlPsk psk{};
  asio::ssl::context tls;
  Handler handler;
  Options options;
  HandshakeThrottle throttle;
  RemoteControlCounters counters;
  bool closed = false;
};

// One connection: handshake, read a line, answer, close; all within the deadline. Owns itself
// through the shared_ptr its pending operations hold.
class RemoteControlSession : public std::enable_shared_from_this<RemoteControlSession> {
 public:
  RemoteControlSession(std::shared_ptr<RemoteControlServer::State> state, tcp::socket socket,
                       IpAddress peer)
      : state_(std::move(state)),
        stream_(std::move(socket), state_->tls),
        timer_(state_->io),
        buffer_(kMaxRequestBytes),
        peer_(peer) {}

  void Start() {
    auto self = shared_from_this();
    timer_.expires_after(state_->options.deadline);
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->OnDeadline();
    });
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self](const boost::system::error_code& ec) { self->OnHandshake(ec); });
  }

 private:
  void OnDeadline() {
    if (finished_) return;
    ++state_->counters.deadlines_expired;
    // A connection that never completes a handshake is as suspect as a failed one.
    if (!authenticated_) state_->throttle.RecordFailure(peer_, HandshakeThrottle::Clock::now());
    LogWarning(kLogComponent, "remote control from " + peer_.ToString() + ": no " +
                                  (answered_        ? "close after the reply"
                                   : authenticated_ ? "request"
                                                    : "TLS handshake") +
                                  " within " + std::to_string(state_->options.deadline.count()) +
                                  " ms; connection dropped");
    Close();
  }

  void OnHandshake(const boost::system::error_code& ec) {
    if (finished_) return;
    if (ec) {
      ++state_->counters.handshakes_refused;
      state_->throttle.RecordFailure(peer_, HandshakeThrottle::Clock::now());
      std::string reason = TakeOpenSslError();
      if (reason.empty()) reason = ec.message();
      LogWarning(kLogComponent, "refused remote control handshake from " + peer_.ToString() + ": " +
                                    reason + " (wrong cluster key, or not nlbctl)");
      Close();
      return;
    }
    authenticated_ = true;
    state_->throttle.RecordSuccess(peer_);
    auto self = shared_from_this();
    asio::async_read_until(
        stream_, buffer_, '\n',
        [self](const boost::system::error_code& read_ec, size_t) { self->OnRequest(read_ec); });
  }

  void OnRequest(const boost::system::error_code& ec) {
    if (finished_) return;
    const uint16_t host_id = state_->options.host_id;
    if (ec) {
      ++state_->counters.malformed_requests;
      return Answer(ErrorReply(host_id, "invalid",
                               ec == asio::error::not_found
                                   ? "request longer than 4096 bytes"
                                   : "request not terminated by a newline: " + ec.message()));
    }
    std::istream in(&buffer_);
    std::string line;
    std::getline(in, line);
    Result<std::vector<std::string>> words = SplitControlRequest(line);
    if (!words.ok()) {
      ++state_->counters.malformed_requests;
      return Answer(ErrorReply(host_id, "invalid", words.status().message()));
    }
    // The request is in: a reply that waits for the cluster is bounded by the agent instead.
    timer_.cancel();
    Handle(words.value());
  }

  void Answer(std::string reply) {
    if (finished_ || answered_) return;  // one reply per request, even if the handler threw
    answered_ = true;
    reply_ = std::move(reply) + '\n';
    auto self = shared_from_this();
    // The write and the client's close_notify get a deadline of their own: a client that went
    // away while its command waited must not hold the session for ever.
    timer_.expires_after(state_->options.deadline);
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->OnDeadline();
    });
    asio::async_write(
        stream_, asio::buffer(reply_), [self](const boost::system::error_code& write_ec, size_t) {
          if (write_ec || self->finished_) {
            self->Close();
            return;
          }
          // close_notify tells the client the reply is complete.
          self->stream_.async_shutdown([self](const boost::system::error_code&) { self->Close(); });
        });
  }

  void Handle(const std::vector<std::string>& words) {
    ++state_->counters.requests_served;
    try {
      state_->handler(
          words, RequestOrigin{RequestOrigin::Channel::kRemote, peer_},
          [self = shared_from_this()](std::string reply) { self->Answer(std::move(reply)); });
    } catch (const std::exception& e) {
      LogError(kLogComponent, std::string("control handler failed: ") + e.what());
      Answer(ErrorReply(state_->options.host_id, "internal", e.what()));
    }
  }

  void Close() {
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

  std::shared_ptr<RemoteControlServer::State> state_;
  asio::ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  std::string reply_;
  IpAddress peer_;
  bool authenticated_ = false;
  bool finished_ = false;
  bool answered_ = false;
};

Result<std::unique_ptr<RemoteControlServer>> RemoteControlServer::Open(
    asio::io_context& io, const IpAddress& bind_address, uint16_t port,
    std::string_view cluster_key, Handler handler, Options options) {
  std::shared_ptr<State> state;
  try {
    state = std::make_shared<State>(io, std::move(handler), options);
  } catch (const boost::system::system_error& e) {
    return Status::Error(ErrorCode::kInternal,
                         std::string("cannot create the control TLS context: ") + e.what());
  }
  state->psk = DeriveControlPsk(cluster_key);
  if (Status s =
          ConfigureControlTls(state->tls.native_handle(), ControlTlsRole::kServer, &state->psk);
      !s.ok()) {
    return s;
  }
  boost::system::error_code ec;
  const std::string text = bind_address.ToString();
  const asio::ip::address address = asio::ip::make_address(text, ec);
  if (ec) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "remote control: '" + text + "' is not an address to listen on");
  }
  const tcp::endpoint endpoint(address, port);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Error(ErrorCode::kUnavailable, "remote control: cannot listen on TCP " + text +
                                                      ":" + std::to_string(port) + ": " +
                                                      ec.message());
  }
  AcceptNext(state);
  return std::unique_ptr<RemoteControlServer>(new RemoteControlServer(std::move(state)));
}

RemoteControlServer::~RemoteControlServer() {
  state_->closed = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry_timer.cancel();
}

uint16_t RemoteControlServer::port() const {
  boost::system::error_code ec;
  const tcp::endpoint local = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : local.port();
}

const RemoteControlCounters& RemoteControlServer::counters() const { return state_->counters; }

void RemoteControlServer::AcceptNext(const std::shared_ptr<State>& state) {
  state->acceptor.async_accept([state](const boost::system::error_code& ec, tcp::socket socket) {
    if (state->closed || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, say: retry later rather than spin on the same error.
      ++state->counters.accept_errors;
      LogWarning(kLogComponent, "remote control: accept failed: " + ec.message());
      state->retry_timer.expires_after(kAcceptRetryDelay);
      state->retry_timer.async_wait([state](const boost::system::error_code& timer_ec) {
        if (!timer_ec && !state->closed) AcceptNext(state);
      });
      return;
    }
    boost::system::error_code peer_ec;
    const tcp::endpoint remote = socket.remote_endpoint(peer_ec);
    if (!peer_ec) {
      const IpAddress peer = ToIpAddress(remote.address());
      if (state->throttle.Wait(peer, HandshakeThrottle::Clock::now()) >
          HandshakeThrottle::Clock::duration::zero()) {
        ++state->counters.handshakes_throttled;
        LogDebug(kLogComponent, "remote control from " + peer.ToString() +
                                    " dropped: waiting after failed handshakes");
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<RemoteControlSession>(state, std::move(socket), peer)->Start();
      }
    }
    AcceptNext(state);
  });
}

}  // namespace nlb::agent
