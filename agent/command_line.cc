#include "agent/command_line.h"

#include <vector>

#include "common/version.h"

namespace nlb {
namespace {

constexpr std::string_view kCheckConfig = "--check-config";
constexpr std::string_view kConfig = "--config";
constexpr std::string_view kCleanup = "--cleanup";

constexpr std::string_view kLogLevel = "--log-level";

// "--flag VALUE" or "--flag=VALUE": the value, and how many arguments it took.
Result<size_t> TakeValue(std::span<const std::string_view> args, std::string_view flag,
                         std::string_view what, std::string* file) {
  const std::string_view first = args[0];
  size_t used = 1;
  if (first == flag) {
    if (args.size() < 2) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           std::string(flag) + " needs a " + std::string(what));
    }
    *file = std::string(args[1]);
    used = 2;
  } else {
    *file = std::string(first.substr(flag.size() + 1));
  }
  if (file->empty()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         std::string(flag) + " needs a " + std::string(what));
  }
  return used;
}

bool IsFlag(std::string_view arg, std::string_view flag) {
  return arg == flag || arg.starts_with(std::string(flag) + "=");
}

}  // namespace

Result<CommandLine> ParseCommandLine(std::span<const std::string_view> all_args) {
  // --log-level may come before or after the action; the rest is parsed without it.
  std::optional<agent::LogLevel> log_level;
  std::vector<std::string_view> rest;
  for (size_t i = 0; i < all_args.size(); ++i) {
    if (!IsFlag(all_args[i], kLogLevel)) {
      rest.push_back(all_args[i]);
      continue;
    }
    std::string word;
    Result<size_t> taken = TakeValue(all_args.subspan(i), kLogLevel, "LEVEL", &word);
    if (!taken.ok()) return taken.status();
    i += taken.value() - 1;
    log_level = agent::ParseLogLevel(word);
    if (!log_level) {
      return Status::Error(
          ErrorCode::kInvalidArgument,
          "--log-level '" + word + "' is not a level; use " + std::string(agent::kLogLevelWords));
    }
  }
  const std::span<const std::string_view> args(rest);
  if (args.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument, "no action given");
  }
  CommandLine command;
  const std::string_view first = args[0];
  size_t used = 1;
  if (first == "--help" || first == "-h") {
    command.action = CommandLine::Action::kHelp;
  } else if (first == "--version") {
    command.action = CommandLine::Action::kVersion;
  } else if (IsFlag(first, kCheckConfig) || IsFlag(first, kConfig)) {
    const bool check = IsFlag(first, kCheckConfig);
    command.action = check ? CommandLine::Action::kCheckConfig : CommandLine::Action::kRun;
    Result<size_t> taken =
        TakeValue(args, check ? kCheckConfig : kConfig, "FILE", &command.config_path);
    if (!taken.ok()) return taken.status();
    used = taken.value();
  } else if (first == kCleanup) {
    // "--cleanup --config FILE": the unit's ExecStopPost names the file the way ExecStart does.
    command.action = CommandLine::Action::kCleanup;
    if (args.size() < 2 || !IsFlag(args[1], kConfig)) {
      return Status::Error(ErrorCode::kInvalidArgument, "--cleanup needs --config FILE");
    }
    Result<size_t> taken = TakeValue(args.subspan(1), kConfig, "FILE", &command.config_path);
    if (!taken.ok()) return taken.status();
    used = 1 + taken.value();
  } else {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "unknown argument '" + std::string(first) + "'");
  }
  if (args.size() > used) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "unexpected argument '" + std::string(args[used]) + "'");
  }
  if (log_level && command.action != CommandLine::Action::kRun) {
    return Status::Error(ErrorCode::kInvalidArgument, "--log-level goes with --config FILE");
  }
  command.log_level = log_level;
  return command;
}

std::string UsageText(std::string_view program) {
  const std::string p(program);
  return "usage: " + p + " --config FILE [--log-level LEVEL]\n" + "       " + p +
         " --check-config FILE\n" + "       " + p + " --cleanup --config FILE\n" + "       " + p +
         " --version\n" + "       " + p +
         " --help\n"
         "\n"
         "nlbd is the nlb cluster agent (a network load balancer in the style of Windows NLB).\n"
         "\n"
         "  --config FILE        run the agent with FILE (SIGHUP re-reads it; SIGTERM stops)\n"
         "  --log-level LEVEL    with --config: error, warning, notice, info (the default) or\n"
         "                       debug; `nlbctl log-level LEVEL` changes it while running\n"
         "  --check-config FILE  validate FILE and its cluster key; print a summary with the\n"
         "                       cluster digest (exit 0), or every error found (exit 2)\n"
         "  --cleanup --config FILE\n"
         "                       undo what an nlbd of FILE left in the kernel after a crash (its\n"
         "                       nftables table, the unicast MAC); refused while it runs\n"
         "  --version            print the version\n"
         "  --help, -h           print this text\n"
         "\n"
         "Exit status: 0 ok, 1 the agent could not start or failed, 2 invalid configuration,\n"
         "64 bad command line.\n"
         "Manual: nlbd(8), nlb.yaml(5); configuration reference: " NLB_DOC_DIR
         "/configuration.md\n";
}

std::string VersionText() { return "nlbd " + std::string(NlbVersion()); }

}  // namespace nlb
