// RemoteControlServer: nlbd's remote control channel, TLS 1.3 with a pre-shared key derived from
// the cluster key (common/control_tls.h, common/control_psk.h) on TCP control.port of the host's
// dedicated address. The agent opens it only when cluster.control.remote is true.
//
// Same protocol as the local ControlServer: one request line of at most 4 KiB per connection,
// answered with one JSON line, then the connection closes. The handler is told the request is
// remote (RequestOrigin), because a suspended host ignores remote commands but `resume`.
// Handshake and request together must finish within `deadline`. Failed handshakes are logged,
// counted and slowed down per address (agent/handshake_throttle.h).
//
// Runs on the agent's io_context thread; the handler is called there too. Counters are read on
// that thread. Destroying the server closes the listening socket; connections in flight finish
// or are dropped by their deadline, without touching the destroyed server.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/handshake_throttle.h"
#include "common/control_origin.h"
#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

// Everything counted is also a reason a request was not served; `report` shows them.
struct RemoteControlCounters {
  uint64_t requests_served = 0;       // a reply was produced by the handler
  uint64_t handshakes_refused = 0;    // TLS failed: wrong or missing key, not TLS at all
  uint64_t handshakes_throttled = 0;  // dropped before the handshake: address still waiting
  uint64_t deadlines_expired = 0;     // handshake + request not done within the deadline
  uint64_t malformed_requests = 0;    // empty, too long, or not ended by a newline
  uint64_t accept_errors = 0;         // accept(2) failed (e.g. out of descriptors)
};

struct RemoteControlOptions {
  std::chrono::milliseconds deadline{5000};  // handshake + request + reply
  // Put in the replies the server writes itself (malformed requests); 0 leaves "host" out.
  uint16_t host_id = 0;
  HandshakeThrottle::Policy throttle;
};

class RemoteControlServer {
 public:
  // Calls reply once with the JSON reply, now or later (a command that waits until it is in
  // force): the deadline covers the handshake and the request, not the wait.
  using Reply = std::function<void(std::string)>;
  using Handler =
      std::function<void(const std::vector<std::string>& words, const RequestOrigin&, Reply)>;

  using Options = RemoteControlOptions;

  // Listens on bind_address:port (port 0: an ephemeral port, see port()). cluster_key: the key
  // file's bytes as ReadClusterKey returns them. kUnavailable when the address cannot be bound,
  // kInternal when TLS cannot be set up.
  static Result<std::unique_ptr<RemoteControlServer>> Open(
      boost::asio::io_context& io, const IpAddress& bind_address, uint16_t port,
      std::string_view cluster_key, Handler handler, Options options = Options());
  ~RemoteControlServer();
  RemoteControlServer(const RemoteControlServer&) = delete;
  RemoteControlServer& operator=(const RemoteControlServer&) = delete;

  // The port actually listened on.
  uint16_t port() const;
  const RemoteControlCounters& counters() const;

  // Shared with connections in flight, so they outlive the server safely. Defined in the .cc.
  struct State;

 private:
  explicit RemoteControlServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  static void AcceptNext(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

}  // namespace nlb::agent
