// The nlbctl command line: which command to run, against which agent, and how to print the
// outcome. Parsing only (no files read, nothing connected); RunNlbctl acts on the result.
// Pure functions; any thread.
//
//   nlbctl [--config FILE] [--socket PATH] [--host ADDR[:PORT]] [--cluster] [--key FILE]
//          [--json] [--timeout-ms N] [--force] COMMAND [ARG]
//   nlbctl help [COMMAND] | nlbctl COMMAND --help | nlbctl --help
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

struct CtlCommandLine {
  enum class Action : uint8_t { kRun = 0, kHelp };
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
  std::chrono::milliseconds timeout = kDefaultControlTimeout;

  // kRun: the command (never nullptr) and its words as sent to the agent: name [ARG].
  const ControlCommand* command = nullptr;
  std::vector<std::string> words;
};

// args: the arguments after the program name. kInvalidArgument with a sentence naming the
// offending argument and what would be valid.
Result<CtlCommandLine> ParseCtlCommandLine(std::span<const std::string_view> args);

// The full --help text.
std::string CtlUsageText();
// `nlbctl help COMMAND`.
std::string CtlCommandHelpText(const ControlCommand& command);

}  // namespace nlb
