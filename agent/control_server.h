// ControlServer: the agent's local control socket, a root-only Unix stream socket.
//
// One request per connection: a single line "COMMAND [ARG...]" of at most 4 KiB, answered with
// one JSON document and a newline, then the connection closes. A client that sends nothing within
// the deadline is dropped. The handler may answer later (a command that waits until it is in
// force, docs/control.md): the connection stays open until it does. Runs on the agent's
// io_context thread; the handler and its reply are called there too.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace nlb::agent {

class ControlServer {
 public:
  // Receives the request's words; calls reply once with the JSON reply, now or later.
  using Reply = std::function<void(std::string)>;
  using Handler = std::function<void(const std::vector<std::string>& words, Reply reply)>;

  // Creates the socket at path (mode 0600, parent directory created 0700 when missing). A stale
  // socket file left by a crashed agent is replaced; a live one means another agent:
  // kAlreadyExists, and that agent's socket stays. The destructor removes the socket file only if
  // it is still the one Open created.
  static Result<std::unique_ptr<ControlServer>> Open(boost::asio::io_context& io,
                                                     const std::string& path, Handler handler);
  ~ControlServer();

  uint64_t malformed_requests() const { return malformed_requests_; }

 private:
  ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
  void AcceptNext();

  boost::asio::io_context& io_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
  Handler handler_;
  uint64_t malformed_requests_ = 0;
  struct SocketFile {
    dev_t device;
    ino_t inode;
  };
  std::optional<SocketFile> created_;  // the file bound by Open, the only one removed at the end
  friend class ControlSession;
};

}  // namespace nlb::agent
