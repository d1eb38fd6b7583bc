// ServiceNotifier: tells systemd how the service is doing, over the sd_notify datagram protocol
// (a Type=notify unit): READY=1 once the agent is up and listening, WATCHDOG=1 from the agent's
// loop so that a stalled loop gets the service restarted (WatchdogSec=), STOPPING=1 on the way
// out. systemd passes the socket in $NOTIFY_SOCKET (a path, or "@name" for an abstract socket)
// and the watchdog period in $WATCHDOG_USEC (for the process $WATCHDOG_PID, when set).
//
// Outside systemd (no $NOTIFY_SOCKET) every call does nothing, so nlbd runs the same by hand or in
// the lab. Messages are single datagrams sent without blocking; a failed send is counted and the
// first one logged, never fatal (systemd then restarts a service whose pets did not arrive).
// One thread at a time (the agent's loop thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nlb::agent {

struct ServiceNotifierOptions {
  std::string socket;  // $NOTIFY_SOCKET: "" = not started by systemd
  // The watchdog period, when systemd watches this process; the agent pets every quarter of it.
  std::optional<std::chrono::microseconds> watchdog;
};

// What the environment says. A $WATCHDOG_PID naming another process, or a $WATCHDOG_USEC that is
// not a positive number, means no watchdog.
ServiceNotifierOptions ServiceNotifierOptionsFromEnvironment();

class ServiceNotifier {
 public:
  explicit ServiceNotifier(ServiceNotifierOptions options);
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;
  ~ServiceNotifier();

  bool enabled() const { return !options_.socket.empty(); }
  bool watchdog_enabled() const { return enabled() && options_.watchdog.has_value(); }

  // READY=1 with a one-line STATUS= for `systemctl status`.
  [[nodiscard]] Status Ready(std::string_view status);
  // STOPPING=1.
  [[nodiscard]] Status Stopping();
  // WATCHDOG=1, at most once per quarter of the watchdog period (the loop may call it on every
  // tick and datagram). now: the caller's steady clock, so that tests need no sleeps.
  void PetWatchdog(std::chrono::steady_clock::time_point now);

  // Datagrams the kernel refused (the socket gone, its queue full, ...).
  uint64_t send_failures() const { return send_failures_; }
  uint64_t watchdog_pets() const { return watchdog_pets_; }

 private:
  Status Send(std::string_view message);

  ServiceNotifierOptions options_;
  int fd_ = -1;
  std::optional<std::chrono::steady_clock::time_point> last_pet_;
  uint64_t send_failures_ = 0;
  uint64_t watchdog_pets_ = 0;
};

}  // namespace nlb::agent
