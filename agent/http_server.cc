#include "agent/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string_view>
#include <vector>

#include "common/status_http.h"

namespace nlb::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class HttpConnection;

struct HttpServer::State {
  State(asio::io_context& io, const HttpServerOptions& o, const StatusSource& s)
      : acceptor(io), options(o), source(&s) {}
  tcp::acceptor acceptor;
  HttpServerOptions options;
  const StatusSource* source;  // null once the server is gone
  HttpServerCounters counters;
  size_t open = 0;
  std::vector<std::weak_ptr<HttpConnection>> connections;
};

namespace {

std::string_view View(beast::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace

// One client connection: read a request, answer it, repeat while the client keeps it alive.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(tcp::socket socket, std::shared_ptr<HttpServer::State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    ++state_->open;
  }
  ~HttpConnection() { --state_->open; }

  void Read() {
    parser_.emplace();
    parser_->header_limit(state_->options.max_request_bytes);
    parser_->body_limit(state_->options.max_request_bytes);
    stream_.expires_after(state_->options.deadline);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == asio::error::operation_aborted || state_->source == nullptr) return;
    if (ec == http::error::end_of_stream) return Close();
    if (ec == beast::error::timeout) {
      // An idle keep-alive connection timing out is normal; a request cut short is not.
      if (parser_->got_some()) ++state_->counters.deadlines_expired;
      return Close();
    }
    if (ec == http::error::header_limit || ec == http::error::body_limit ||
        ec == http::error::buffer_overflow) {
      ++state_->counters.bad_requests;
      const int status = ec == http::error::body_limit ? 413 : 431;
      return Answer(HttpAnswer{status, "text/plain; charset=utf-8",
                               "request too large: at most " +
                                   std::to_string(state_->options.max_request_bytes) + " bytes\n",
                               false},
                    false);
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      ++state_->counters.bad_requests;
      return Answer(HttpAnswer{400, "text/plain; charset=utf-8", "bad request\n", false}, false);
    }
    if (ec) return Close();  // reset by the peer and the like: nothing to answer
    const auto& request = parser_->get();
    HttpAnswer answer =
        AnswerHttp(View(request.method_string()), View(request.target()), *state_->source);
    if (answer.status == 405) ++state_->counters.methods_refused;
    if (answer.status == 404) ++state_->counters.not_found;
    Answer(std::move(answer), request.keep_alive());
  }

  void Answer(HttpAnswer answer, bool keep_alive) {
    ++state_->counters.requests;
    response_ = {};
    response_.version(11);
    response_.result(http::int_to_status(static_cast<unsigned>(answer.status)));
    response_.set(http::field::server, "nlbd");
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.set("X-Content-Type-Options", "nosniff");
    if (answer.status == 405) response_.set(http::field::allow, "GET, HEAD");
    if (answer.head_only) {
      response_.content_length(answer.body.size());
    } else {
      response_.body() = std::move(answer.body);
      response_.prepare_payload();
    }
    response_.keep_alive(keep_alive);
    stream_.expires_after(state_->options.deadline);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec == beast::error::timeout) ++self->state_->counters.deadlines_expired;
                        if (ec || !keep_alive || self->state_->source == nullptr) {
                          return self->Close();
                        }
                        self->Read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<HttpServer::State> state_;
};

namespace {

void Accept(const std::shared_ptr<HttpServer::State>& state) {
  state->acceptor.async_accept([state](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || state->source == nullptr) return;
    if (ec) {
      ++state->counters.accept_errors;
    } else if (state->open >= state->options.max_connections) {
      ++state->counters.connections_refused;
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      std::erase_if(state->connections, [](const auto& w) { return w.expired(); });
      auto connection = std::make_shared<HttpConnection>(std::move(socket), state);
      state->connections.push_back(connection);
      connection->Read();
    }
    Accept(state);
  });
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Open(asio::io_context& io,
                                                     const HttpServerOptions& options,
                                                     const StatusSource& source) {
  auto state = std::make_shared<State>(io, options, source);
  const std::string where = "http listener " + options.listen.address().to_string() + ":" +
                            std::to_string(options.listen.port());
  beast::error_code ec;
  state->acceptor.open(options.listen.protocol(), ec);
  if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(options.listen, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Error(ErrorCode::kUnavailable, where + ": " + ec.message());
  Accept(state);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

HttpServer::~HttpServer() {
  state_->source = nullptr;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  for (const auto& weak : state_->connections) {
    if (auto connection = weak.lock()) connection->Close();
  }
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  const tcp::endpoint bound = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : bound.port();
}

const HttpServerCounters& HttpServer::counters() const { return state_->counters; }

size_t HttpServer::open_connections() const { return state_->open; }

}  // namespace nlb::agent
