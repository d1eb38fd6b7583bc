#include "agent/command_line.h"

namespace nlb {
namespace {

constexpr std::string_view kCheckConfig = "--check-config";

}  // namespace

Result<CommandLine> ParseCommandLine(std::span<const std::string_view> args) {
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
  } else if (first == kCheckConfig || first.starts_with(std::string(kCheckConfig) + "=")) {
    command.action = CommandLine::Action::kCheckConfig;
    if (first == kCheckConfig) {
      if (args.size() < 2) {
        return Status::Error(ErrorCode::kInvalidArgument, "--check-config needs a FILE");
      }
      command.config_path = std::string(args[1]);
      used = 2;
    } else {
      command.config_path = std::string(first.substr(kCheckConfig.size() + 1));
    }
    if (command.config_path.empty()) {
      return Status::Error(ErrorCode::kInvalidArgument, "--check-config needs a FILE");
    }
  } else {
    // The daemon's own options (--config FILE, ...) get their branches above this one.
    return Status::Error(ErrorCode::kInvalidArgument,
                         "unknown argument '" + std::string(first) + "'");
  }
  if (args.size() > used) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "unexpected argument '" + std::string(args[used]) + "'");
  }
  return command;
}

std::string UsageText(std::string_view program) {
  const std::string p(program);
  return "usage: " + p + " --check-config FILE\n" +
         "       " + p + " --version\n" +
         "       " + p + " --help\n"
         "\n"
         "nlbd is the nlb cluster agent (a network load balancer in the style of Windows NLB).\n"
         "\n"
         "  --check-config FILE  validate FILE and its cluster key; print a summary with the\n"
         "                       cluster digest (exit 0), or every error found (exit 2)\n"
         "  --version            print the version\n"
         "  --help, -h           print this text\n"
         "\n"
         "Exit status: 0 ok, 2 invalid configuration, 64 bad command line.\n"
         "Configuration reference: docs/configuration.md\n";
}

std::string VersionText() { return std::string("nlbd ") + NLB_VERSION; }

}  // namespace nlb
