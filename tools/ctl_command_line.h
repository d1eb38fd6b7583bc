// The nlbctl command line: which command to run, against which agent, and how to print the
// outcome. Parsing only (no files read, nothing connected); RunNlbctl acts on the result.
// Pure functions; any thread.
//
//   nlbctl [--config FILE] [--socket PATH] [--host ADDR[:PORT]] [--cluster] [--key FILE]
//          [--json] [--timeout-ms N] [--interval-ms N] [--force] [--no-wait | --wait-ms N]
//          COMMAND [ARG]
//   nlbctl owner CLIENT[:PORT] [VIP:PORT] [--protocol tcp|udp]
//   nlbctl owner --flows FILE [--protocol tcp|udp]   one flow per line of FILE ("-": stdin)
//   nlbctl watch [query|report]          the view again every --interval-ms until interrupted
//   nlbctl help [COMMAND] | nlbctl COMMAND --help | nlbctl --help | nlbctl --version
// Options may come before or after the command; --opt=VALUE and --opt VALUE are both accepted.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/control_command.h"
#include "common/ip_address.h"
#include "common/status.h"

namespace nlb {

// SYSCONFDIR/nlb/nlb.yaml of the install layout: /etc/nlb/nlb.yaml in the package.
std::string_view DefaultConfigPath();
inline constexpr std::chrono::milliseconds kDefaultControlTimeout{3000};
inline constexpr std::chrono::milliseconds kMaxControlTimeout{600000};
// How long start, stop, drainstop, enable, disable and drain wait until in force by default.
inline constexpr std::chrono::milliseconds kDefaultControlWait{10000};
// watch's refresh period, and the gap between the two reports a cluster view's rates come from.
inline constexpr std::chrono::milliseconds kDefaultViewInterval{1000};
inline constexpr std::chrono::milliseconds kMinViewInterval{100};

struct CtlCommandLine {
  enum class Action : uint8_t { kRun = 0, kHelp, kVersion };
  Action action = Action::kRun;
  // kHelp: nullptr for the general usage, else the command to explain.
  const ControlCommand* help_command = nullptr;

  std::string config_path = std::string(DefaultConfigPath());
  bool config_given = false;
  std::string socket_path;            // --socket; empty: derived from the configuration
  std::optional<IpAddress> host;      // --host
  std::optional<uint16_t> host_port;  // --host ADDR:PORT; otherwise control.port
  std::string key_path;               // --key; empty: the configuration's heartbeat.key_file
  bool cluster = false;
  bool json = false;
  bool force = false;
  std::chrono::milliseconds timeout = kDefaultControlTimeout;  // plus the wait when waiting
  // A command that can wait (common/control_wait.h) waits this long unless --no-wait (then 0);
  // words then end with its wait=MS word.
  std::chrono::milliseconds wait = kDefaultControlWait;
  std::chrono::milliseconds interval = kDefaultViewInterval;  // --interval-ms
  std::string protocol;    // --protocol tcp|udp (owner only); sent as owner's last word
  std::string flows_path;  // --flows FILE (owner only): many flows, tools/owner_batch.h
  bool watch = false;      // `watch VIEW`: words then hold the view (query or report)

  // kRun: the command (never nullptr) and its words as sent to the agent: name [ARG].
  const ControlCommand* command = nullptr;
  std::vector<std::string> words;
};

// args: the arguments after the program name. kInvalidArgument with a sentence naming the
// offending argument and what would be valid.
Result<CtlCommandLine> ParseCtlCommandLine(std::span<const std::string_view> args);

// The full --help text.
std::string CtlUsageText();
// `nlbctl --version`: "nlbctl VERSION\n", the CMake project version.
std::string CtlVersionText();
// `nlbctl help COMMAND`.
std::string CtlCommandHelpText(const ControlCommand& command);

}  // namespace nlb
