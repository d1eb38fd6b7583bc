#include "agent/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <istream>

#include "common/control_request.h"
#include "common/json_writer.h"

namespace nlb::agent {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {
constexpr size_t kMaxRequestBytes = kMaxControlRequestBytes;
constexpr auto kRequestDeadline = std::chrono::seconds(5);

std::string ErrorReply(std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(false).Key("code").String("invalid");
  w.Key("error").String(message).EndObject();
  return w.str();
}
}  // namespace

// One connection: read a line, answer, close. Owns itself through shared_ptr captures.
class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(ControlServer& server, stream_protocol::socket socket)
      : server_(server),
        socket_(std::move(socket)),
        timer_(server.io_),
        buffer_(kMaxRequestBytes) {}

  void Start() {
    auto self = shared_from_this();
    timer_.expires_after(kRequestDeadline);
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    asio::async_read_until(
        socket_, buffer_, '\n',
        [self](const boost::system::error_code& ec, size_t) { self->OnRequest(ec); });
  }

 private:
  void OnRequest(const boost::system::error_code& ec) {
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) return;
      ++server_.malformed_requests_;
      return Answer(ErrorReply(ec == asio::error::not_found
                                   ? "request longer than 4096 bytes"
                                   : "request not terminated by a newline: " + ec.message()));
    }
    // The deadline is for the request; a reply may wait for the cluster (bounded by the agent).
    timer_.cancel();
    std::istream in(&buffer_);
    std::string line;
    std::getline(in, line);
    Result<std::vector<std::string>> words = SplitControlRequest(line);
    if (!words.ok()) {
      ++server_.malformed_requests_;
      return Answer(ErrorReply(words.status().message()));
    }
    server_.handler_(words.value(),
                     [self = shared_from_this()](std::string reply) { self->Answer(reply); });
  }

  void Answer(std::string reply) {
    reply_ = std::move(reply) + '\n';
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(reply_),
                      [self](const boost::system::error_code&, size_t) {
                        boost::system::error_code ignored;
                        self->timer_.cancel();
                        self->socket_.shutdown(stream_protocol::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                      });
  }

  ControlServer& server_;
  stream_protocol::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  std::string reply_;
};

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler)
    : io_(io), acceptor_(io), path_(std::move(path)), handler_(std::move(handler)) {}

Result<std::unique_ptr<ControlServer>> ControlServer::Open(asio::io_context& io,
                                                           const std::string& path,
                                                           Handler handler) {
  std::unique_ptr<ControlServer> server(new ControlServer(io, path, std::move(handler)));
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code fs_ec;
  if (!parent.empty() && !std::filesystem::exists(parent, fs_ec)) {
    std::filesystem::create_directories(parent, fs_ec);
    if (fs_ec) {
      return Status::Error(ErrorCode::kUnavailable,
                           "control socket directory " + parent.string() + ": " + fs_ec.message());
    }
    chmod(parent.c_str(), 0700);
  }
  // A socket file that nobody answers on is a leftover of a crash; one that answers is a peer.
  if (std::filesystem::exists(path, fs_ec)) {
    stream_protocol::socket probe(io);
    boost::system::error_code ec;
    probe.connect(stream_protocol::endpoint(path), ec);
    if (!ec) {
      return Status::Error(ErrorCode::kAlreadyExists,
                           "control socket " + path + " is in use by another nlbd");
    }
    std::filesystem::remove(path, fs_ec);
  }
  boost::system::error_code ec;
  const mode_t old_mask = umask(0077);
  server->acceptor_.open(stream_protocol(), ec);
  if (!ec) server->acceptor_.bind(stream_protocol::endpoint(path), ec);
  umask(old_mask);
  if (!ec) server->acceptor_.listen(16, ec);
  if (ec) {
    return Status::Error(ErrorCode::kUnavailable, "control socket " + path + ": " + ec.message());
  }
  chmod(path.c_str(), 0600);
  struct stat created {};
  if (stat(path.c_str(), &created) == 0)
    server->created_ = SocketFile{created.st_dev, created.st_ino};
  server->AcceptNext();
  return server;
}

ControlServer::~ControlServer() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  // Only the file this server bound: a server refused because another agent answers on the path
  // (say a second nlbd in another network namespace sharing /run) must leave that agent's socket,
  // and one whose file was replaced since must leave the replacement.
  struct stat now {};
  if (created_ && stat(path_.c_str(), &now) == 0 && now.st_dev == created_->device &&
      now.st_ino == created_->inode) {
    unlink(path_.c_str());
  }
}

void ControlServer::AcceptNext() {
  acceptor_.async_accept(
      [this](const boost::system::error_code& ec, stream_protocol::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) std::make_shared<ControlSession>(*this, std::move(socket))->Start();
        AcceptNext();
      });
}

}  // namespace nlb::agent
