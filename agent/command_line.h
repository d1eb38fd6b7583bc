// The nlbd command line: which action a run performs and on what. Parsing only; main() acts on
// the result. Pure functions; any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/log.h"
#include "common/status.h"

namespace nlb {

// Exit statuses of nlbd, as sysexits.h has them where one fits.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitConfigInvalid = 2;
inline constexpr int kExitUsage = 64;  // EX_USAGE

struct CommandLine {
  enum class Action {
    kHelp,         // --help, -h
    kVersion,      // --version
    kCheckConfig,  // --check-config FILE: validate, print a summary, exit
    kRun,          // --config FILE: run the agent
    kCleanup,      // --cleanup --config FILE: undo a crashed agent's kernel state, exit
  };
  Action action = Action::kHelp;
  std::string config_path;  // kCheckConfig, kRun, kCleanup
  // kRun only: --log-level LEVEL, one of the words of agent/log.h (error ... debug).
  std::optional<agent::LogLevel> log_level;
};

// args: the arguments after the program name. kInvalidArgument naming the offending argument
// when they are unknown, missing a value, or empty.
Result<CommandLine> ParseCommandLine(std::span<const std::string_view> args);

// The --help text; program is argv[0] as invoked.
std::string UsageText(std::string_view program);

// "nlbd <version>", one line.
std::string VersionText();

}  // namespace nlb
