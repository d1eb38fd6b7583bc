// ServiceNotifier against a real AF_UNIX datagram socket standing in for systemd's: the messages
// of the sd_notify protocol arrive as single datagrams, at a path or an abstract name; the
// watchdog is petted at most every quarter period on the caller's clock; a missing or malformed
// socket is an error that is counted, never a crash. No sleeps: a datagram sent on a Unix socket
// is in the receiver's queue when sendto returns.
#include "agent/service_notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace nlb::agent {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The systemd side: a bound datagram socket; name "@..." is abstract.
class FakeSystemd {
 public:
  explicit FakeSystemd(std::string name) : name_(std::move(name)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name_.data(), name_.size());
    const bool abstract = name_[0] == '@';
    if (abstract) address.sun_path[0] = '\0';
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size() + (abstract ? 0 : 1));
    EXPECT_EQ(bind(fd_, reinterpret_cast<const sockaddr*>(&address), length), 0)
        << std::strerror(errno);
  }
  ~FakeSystemd() {
    close(fd_);
    if (name_[0] == '/') unlink(name_.c_str());
  }
  // The next datagram, or nullopt when none is queued.
  std::optional<std::string> Receive() {
    char buffer[512];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
};

std::string TempSocketPath() {
  std::string dir = testing::TempDir() + "nlb-notify-XXXXXX";
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir + "/notify";
}

std::string UniqueAbstractName() {
  return "@nlb-notify-test-" + std::to_string(getpid()) + "-" +
         testing::UnitTest::GetInstance()->current_test_info()->name();
}

TEST(ServiceNotifier, ReadyAndStoppingReachAPathSocket) {
  FakeSystemd systemd(TempSocketPath());
  ServiceNotifier notifier({systemd.name(), std::nullopt});
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.Ready("cluster web: heartbeating").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=cluster web: heartbeating\n");
  ASSERT_TRUE(notifier.Stopping().ok());
  EXPECT_EQ(systemd.Receive(), "STOPPING=1\n");
  EXPECT_EQ(systemd.Receive(), std::nullopt);
  EXPECT_EQ(notifier.send_failures(), 0u);
}

TEST(ServiceNotifier, AbstractSocketName) {
  FakeSystemd systemd(UniqueAbstractName());
  ServiceNotifier notifier({systemd.name(), std::nullopt});
  ASSERT_TRUE(notifier.Ready("up").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=up\n");
}

TEST(ServiceNotifier, WatchdogIsPettedEveryQuarterPeriodAtMost) {
  FakeSystemd systemd(UniqueAbstractName());
  ServiceNotifier notifier({systemd.name(), microseconds(4'000'000)});
  ASSERT_TRUE(notifier.watchdog_enabled());
  const Clock::time_point t0 = Clock::now();
  notifier.PetWatchdog(t0);
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1\n");
  notifier.PetWatchdog(t0 + milliseconds(500));  // ticks and datagrams between pets
  notifier.PetWatchdog(t0 + milliseconds(999));
  EXPECT_EQ(systemd.Receive(), std::nullopt);
  notifier.PetWatchdog(t0 + milliseconds(1000));
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1\n");
  EXPECT_EQ(notifier.watchdog_pets(), 2u);
}

TEST(ServiceNotifier, NoWatchdogMeansNoPets) {
  FakeSystemd systemd(UniqueAbstractName());
  ServiceNotifier notifier({systemd.name(), std::nullopt});
  notifier.PetWatchdog(Clock::now());
  EXPECT_EQ(systemd.Receive(), std::nullopt);
}

TEST(ServiceNotifier, OutsideSystemdEveryCallIsANoOp) {
  ServiceNotifier notifier({"", microseconds(1000)});
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.watchdog_enabled());
  EXPECT_TRUE(notifier.Ready("up").ok());
  notifier.PetWatchdog(Clock::now());
  EXPECT_EQ(notifier.send_failures(), 0u);
}

TEST(ServiceNotifier, FaultsAreErrorsAndCounted) {
  {
    // systemd gone: nothing listens at the path any more.
    ServiceNotifier notifier({TempSocketPath(), microseconds(1000)});
    Status s = notifier.Ready("up");
    EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
    EXPECT_NE(s.message().find("notifying systemd through"), std::string::npos) << s.message();
    notifier.PetWatchdog(Clock::now());
    EXPECT_EQ(notifier.send_failures(), 2u);
    EXPECT_EQ(notifier.watchdog_pets(), 0u);
  }
  for (const std::string& bad : {std::string("relative/notify"), std::string(200, '/')}) {
    ServiceNotifier notifier({bad, std::nullopt});
    Status s = notifier.Ready("up");
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(notifier.send_failures(), 1u);
  }
}

TEST(ServiceNotifier, EnvironmentNamesSocketAndWatchdog) {
  struct Case {
    const char* socket;
    const char* usec;
    std::string pid;
    std::optional<microseconds> watchdog;
  };
  const std::string self = std::to_string(getpid());
  const Case cases[] = {
      {"/run/systemd/notify", "30000000", self, microseconds(30'000'000)},
      {"/run/systemd/notify", "30000000", "", microseconds(30'000'000)},
      {"/run/systemd/notify", "30000000", "1", std::nullopt},  // another process's watchdog
      {"/run/systemd/notify", "0", self, std::nullopt},
      {"/run/systemd/notify", "30s", self, std::nullopt},
      {"@abstract", nullptr, "", std::nullopt},
      {nullptr, nullptr, "", std::nullopt},
  };
  for (const Case& c : cases) {
    c.socket ? setenv("NOTIFY_SOCKET", c.socket, 1) : unsetenv("NOTIFY_SOCKET");
    c.usec ? setenv("WATCHDOG_USEC", c.usec, 1) : unsetenv("WATCHDOG_USEC");
    c.pid.empty() ? unsetenv("WATCHDOG_PID") : setenv("WATCHDOG_PID", c.pid.c_str(), 1);
    const ServiceNotifierOptions options = ServiceNotifierOptionsFromEnvironment();
    EXPECT_EQ(options.socket, c.socket ? c.socket : "");
    EXPECT_EQ(options.watchdog, c.watchdog) << (c.usec ? c.usec : "(none)") << " pid " << c.pid;
  }
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

}  // namespace
}  // namespace nlb::agent
