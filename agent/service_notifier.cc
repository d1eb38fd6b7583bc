#include "agent/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "agent/log.h"

namespace nlb::agent {
namespace {

std::string_view Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string_view(value) : std::string_view();
}

std::optional<uint64_t> ParseNumber(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

ServiceNotifierOptions ServiceNotifierOptionsFromEnvironment() {
  ServiceNotifierOptions options;
  options.socket = std::string(Env("NOTIFY_SOCKET"));
  const std::optional<uint64_t> usec = ParseNumber(Env("WATCHDOG_USEC"));
  const std::string_view pid_text = Env("WATCHDOG_PID");
  const std::optional<uint64_t> pid = ParseNumber(pid_text);
  const bool for_us = pid_text.empty() || (pid && *pid == static_cast<uint64_t>(getpid()));
  if (usec && *usec > 0 && for_us) options.watchdog = std::chrono::microseconds(*usec);
  return options;
}

ServiceNotifier::ServiceNotifier(ServiceNotifierOptions options) : options_(std::move(options)) {
  if (!enabled()) return;
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

ServiceNotifier::~ServiceNotifier() {
  if (fd_ >= 0) close(fd_);
}

Status ServiceNotifier::Ready(std::string_view status) {
  return Send("READY=1\nSTATUS=" + std::string(status) + "\n");
}

Status ServiceNotifier::Stopping() { return Send("STOPPING=1\n"); }

void ServiceNotifier::PetWatchdog(std::chrono::steady_clock::time_point now) {
  if (!watchdog_enabled()) return;
  if (last_pet_ && now - *last_pet_ < *options_.watchdog / 4) return;
  last_pet_ = now;
  // A failed pet is counted and logged by Send; the next tick tries again.
  if (Send("WATCHDOG=1\n").ok()) ++watchdog_pets_;
}

Status ServiceNotifier::Send(std::string_view message) {
  if (!enabled()) return Status::Ok();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string& path = options_.socket;
  Status status;
  if (path.size() >= sizeof(address.sun_path) || (path[0] != '/' && path[0] != '@')) {
    status = Status::Error(ErrorCode::kInvalidArgument,
                           "NOTIFY_SOCKET '" + path + "' is neither a path nor an abstract name");
  } else if (fd_ < 0) {
    status = Status::Error(ErrorCode::kUnavailable, "no socket for systemd notifications");
  } else {
    std::memcpy(address.sun_path, path.data(), path.size());
    if (path[0] == '@') address.sun_path[0] = '\0';  // abstract: no terminating NUL either
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                               (path[0] == '@' ? 0 : 1));
    if (sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&address), length) < 0) {
      status = Status::Error(ErrorCode::kUnavailable,
                             "notifying systemd through " + path + ": " + std::strerror(errno));
    }
  }
  if (!status.ok()) {
    if (send_failures_++ == 0) LogWarning("systemd", status.message());
  }
  return status;
}

}  // namespace nlb::agent
