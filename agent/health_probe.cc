#include "agent/health_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nlb::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// A healthy reply's head and the part of the body that matters fit in this; a larger reply is
// judged on what arrived (the status line is in it).
constexpr size_t kMaxReplyBytes = 64 * 1024;

// State shared by the probe's callbacks; the first verdict wins, later ones are ignored.
class Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(asio::io_context& io, const HealthCheckSpec& spec, asio::ssl::context& tls, ProbeDone done)
      : io_(io), spec_(spec), done_(std::move(done)), timer_(io), tls_stream_(io, tls) {}

  ~Probe() {
    // The loop is being torn down with the command still running: do not leave it behind.
    if (child_ > 0) {
      ::kill(-child_, SIGKILL);
      int status = 0;
      while (::waitpid(child_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  void Start() {
    start_ = Clock::now();
    timer_.expires_after(std::chrono::milliseconds(spec_.timeout_ms));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->OnTimeout();
    });
    if (spec_.kind == HealthCheckKind::kCommand) {
      StartCommand();
    } else {
      Connect();
    }
  }

 private:
  tcp::socket& socket() { return tls_stream_.next_layer(); }

  void Finish(ProbeOutcome outcome) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket().close(ignored);
    done_(outcome, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_));
  }

  void OnTimeout() {
    if (child_ > 0) ::kill(-child_, SIGKILL);  // reaped when its pidfd turns readable
    Finish(ProbeOutcome::kTimeout);
  }

  void Connect() {
    const tcp::endpoint endpoint(asio::ip::make_address(spec_.address.ToString()), spec_.port);
    socket().async_connect(endpoint,
                           [self = shared_from_this()](const boost::system::error_code& ec) {
                             if (self->finished_) return;
                             if (ec) return self->Finish(ProbeOutcome::kRefused);
                             switch (self->spec_.kind) {
                               case HealthCheckKind::kTcp:
                                 return self->Finish(ProbeOutcome::kPassed);
                               case HealthCheckKind::kHttps:
                                 return self->Handshake();
                               default:
                                 return self->SendRequest();
                             }
                           });
  }

  void Handshake() {
    tls_stream_.async_handshake(asio::ssl::stream_base::client,
                                [self = shared_from_this()](const boost::system::error_code& ec) {
                                  if (self->finished_) return;
                                  if (ec) return self->Finish(ProbeOutcome::kTlsFailed);
                                  self->SendRequest();
                                });
  }

  bool tls() const { return spec_.kind == HealthCheckKind::kHttps; }

  void SendRequest() {
    const std::string host =
        spec_.address.is_v4() ? spec_.address.ToString() : "[" + spec_.address.ToString() + "]";
    request_ = "GET " + spec_.path + " HTTP/1.1\r\nHost: " + host +
               "\r\nUser-Agent: nlb-health\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    auto sent = [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
      if (self->finished_) return;
      if (ec) return self->Finish(ProbeOutcome::kRefused);
      self->ReadReply();
    };
    if (tls()) {
      asio::async_write(tls_stream_, asio::buffer(request_), sent);
    } else {
      asio::async_write(socket(), asio::buffer(request_), sent);
    }
  }

  void ReadReply() {
    auto got = [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
      if (self->finished_) return;
      self->reply_.append(self->chunk_.data(), n);
      // The end of the reply: the server closed (Connection: close), cleanly or, over TLS,
      // without close_notify (many servers do that), or the reply is as large as we read.
      if (ec || self->reply_.size() >= kMaxReplyBytes) {
        const bool ended =
            !ec || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
        if (!ended && self->reply_.empty()) return self->Finish(ProbeOutcome::kRefused);
        return self->Finish(ClassifyHttpReply(self->reply_, self->spec_));
      }
      self->ReadReply();
    };
    if (tls()) {
      tls_stream_.async_read_some(asio::buffer(chunk_), got);
    } else {
      socket().async_read_some(asio::buffer(chunk_), got);
    }
  }

  void StartCommand() {
    std::vector<char*> argv;
    for (const std::string& word : spec_.command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    // A fixed, small environment: the check's behaviour must not depend on how nlbd was started.
    char path_var[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    char* envp[] = {path_var, nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so that a timeout kills what it started too; default signal
    // dispositions and an empty mask, whatever nlbd blocks for its signal_set.
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return Finish(ProbeOutcome::kSpawnFailed);
    child_ = pid;
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
      // No pidfd (a kernel before 5.3): still never block the loop; poll for the exit instead.
      return PollChild();
    }
    pidfd_.emplace(io_, fd);
    pidfd_->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this()](const boost::system::error_code&) { self->ReapChild(); });
  }

  void PollChild() {
    auto poll = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(20));
    poll->async_wait([self = shared_from_this(), poll](const boost::system::error_code&) {
      int status = 0;
      if (::waitpid(self->child_, &status, WNOHANG) == 0) return self->PollChild();
      self->Exited(status);
    });
  }

  void ReapChild() {
    int status = 0;
    pid_t got = -1;
    while ((got = ::waitpid(child_, &status, 0)) < 0 && errno == EINTR) {
    }
    Exited(got == child_ ? status : -1);
  }

  void Exited(int status) {
    child_ = 0;
    pidfd_.reset();
    Finish(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0
               ? ProbeOutcome::kPassed
               : ProbeOutcome::kCommandFailed);
  }

  asio::io_context& io_;
  const HealthCheckSpec spec_;
  ProbeDone done_;
  asio::steady_timer timer_;
  asio::ssl::stream<tcp::socket> tls_stream_;  // its lower layer is the plain socket too
  Clock::time_point start_;
  bool finished_ = false;
  std::string request_;
  std::array<char, 4096> chunk_{};
  std::string reply_;
  pid_t child_ = 0;
  std::optional<asio::posix::stream_descriptor> pidfd_;
};

}  // namespace

void StartHealthProbe(asio::io_context& io, const HealthCheckSpec& spec, asio::ssl::context& tls,
                      ProbeDone done) {
  std::make_shared<Probe>(io, spec, tls, std::move(done))->Start();
}

asio::ssl::context MakeHealthTlsContext() {
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);
  return tls;
}

}  // namespace nlb::agent
