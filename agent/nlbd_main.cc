// nlbd: the nlb cluster agent. main() only dispatches on the parsed command line; each action
// lives in its own file.
#include <iostream>
#include <string_view>
#include <vector>

#include "agent/command_line.h"
#include "agent/config_check.h"
#include "agent/crash_cleanup.h"
#include "agent/log.h"
#include "agent/run_agent.h"

int main(int argc, char** argv) {
  const std::string_view program = argc > 0 ? argv[0] : "nlbd";
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  nlb::Result<nlb::CommandLine> command = nlb::ParseCommandLine(args);
  if (!command.ok()) {
    std::cerr << program << ": " << command.status().message() << "\n\n" << nlb::UsageText(program);
    return nlb::kExitUsage;
  }
  switch (command->action) {
    case nlb::CommandLine::Action::kHelp:
      std::cout << nlb::UsageText(program);
      return nlb::kExitOk;
    case nlb::CommandLine::Action::kVersion:
      std::cout << nlb::VersionText() << "\n";
      return nlb::kExitOk;
    case nlb::CommandLine::Action::kCheckConfig:
      return nlb::RunConfigCheck(command->config_path, std::cout, std::cerr);
    case nlb::CommandLine::Action::kCleanup:
      return nlb::agent::RunCrashCleanup(command->config_path, std::cout, std::cerr);
    case nlb::CommandLine::Action::kRun:
      if (command->log_level) nlb::agent::SetLogLevel(*command->log_level);
      return nlb::agent::RunAgent(command->config_path);
  }
  return nlb::kExitUsage;
}
