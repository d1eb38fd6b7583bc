// HttpServer: the agent's read-only HTTP listener for GET /metrics, /status.json and the status
// page (docs/operations.md). Boost.Beast on the agent's own io_context: every read and write is
// asynchronous, a request (headers and body) is bounded in size, each request must arrive and be
// answered within a deadline, and connections beyond a limit are closed on accept, so no client
// can stall or exhaust the loop. What to answer comes from common/status_http.h, which reads the
// agent through a StatusSource only.
//
// Open, the destructor and the accessors run on the io_context's thread, the only thread that
// runs this server's handlers. Destroying the server closes the listener and every connection;
// handlers still queued then see their sockets closed and touch nothing else.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "common/host_status.h"
#include "common/status.h"

namespace nlb::agent {

struct HttpServerOptions {
  boost::asio::ip::tcp::endpoint listen;
  size_t max_connections = 16;
  std::chrono::milliseconds deadline{5000};  // to receive one whole request, and to answer it
  uint32_t max_request_bytes = 8192;         // headers and body
};

// Each handled error has a counter; nlbctl report shows them (errors.http_*).
struct HttpServerCounters {
  uint64_t requests = 0;             // answered, whatever the status
  uint64_t methods_refused = 0;      // 405: not GET or HEAD
  uint64_t not_found = 0;            // 404
  uint64_t bad_requests = 0;         // unparsable, or over max_request_bytes (closed)
  uint64_t deadlines_expired = 0;    // a request began but did not arrive in time (closed)
  uint64_t connections_refused = 0;  // over max_connections (closed on accept)
  uint64_t accept_errors = 0;
};

class HttpServer {
 public:
  // Binds and listens; an error names the address and why (in use, not local, ...).
  // REQUIRES: source outlives the server.
  static Result<std::unique_ptr<HttpServer>> Open(boost::asio::io_context& io,
                                                  const HttpServerOptions& options,
                                                  const StatusSource& source);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;  // the bound port (tests listen on port 0)
  const HttpServerCounters& counters() const;
  size_t open_connections() const;

  struct State;  // shared with the connections (agent/http_server.cc)

 private:
  explicit HttpServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace nlb::agent
