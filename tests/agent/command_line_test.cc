// ParseCommandLine: each accepted form gives its action; everything else is refused by name.
#include "agent/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace nlb {
namespace {

struct AcceptCase {
  std::vector<std::string_view> args;
  CommandLine::Action action;
  std::string config_path;
};

TEST(CommandLine, AcceptsEachForm) {
  const AcceptCase cases[] = {
      {{"--help"}, CommandLine::Action::kHelp, ""},
      {{"-h"}, CommandLine::Action::kHelp, ""},
      {{"--version"}, CommandLine::Action::kVersion, ""},
      {{"--check-config", "/etc/nlb/nlb.yaml"},
       CommandLine::Action::kCheckConfig,
       "/etc/nlb/nlb.yaml"},
      {{"--check-config=nlb.yaml"}, CommandLine::Action::kCheckConfig, "nlb.yaml"},
      {{"--cleanup", "--config", "/etc/nlb/nlb.yaml"},
       CommandLine::Action::kCleanup,
       "/etc/nlb/nlb.yaml"},
      {{"--cleanup", "--config=nlb.yaml"}, CommandLine::Action::kCleanup, "nlb.yaml"},
  };
  for (const AcceptCase& c : cases) {
    Result<CommandLine> command = ParseCommandLine(c.args);
    ASSERT_TRUE(command.ok()) << c.args[0] << ": " << command.status().message();
    EXPECT_EQ(command->action, c.action) << c.args[0];
    EXPECT_EQ(command->config_path, c.config_path) << c.args[0];
  }
}

struct RefuseCase {
  std::vector<std::string_view> args;
  const char* expected;
};

TEST(CommandLine, RefusesWithTheReason) {
  const RefuseCase cases[] = {
      {{}, "no action given"},
      {{"--frobnicate"}, "unknown argument '--frobnicate'"},
      {{"nlb.yaml"}, "unknown argument 'nlb.yaml'"},
      {{"--check-config"}, "--check-config needs a FILE"},
      {{"--check-config="}, "--check-config needs a FILE"},
      {{"--check-config", ""}, "--check-config needs a FILE"},
      {{"--check-config", "a.yaml", "b.yaml"}, "unexpected argument 'b.yaml'"},
      {{"--version", "--help"}, "unexpected argument '--help'"},
      {{"--cleanup"}, "--cleanup needs --config FILE"},
      {{"--cleanup", "nlb.yaml"}, "--cleanup needs --config FILE"},
      {{"--cleanup", "--config"}, "--config needs a FILE"},
      {{"--cleanup", "--config", "a.yaml", "b"}, "unexpected argument 'b'"},
      {{"--config", "a.yaml", "--log-level"}, "--log-level needs a LEVEL"},
      {{"--config", "a.yaml", "--log-level="}, "--log-level needs a LEVEL"},
      {{"--config", "a.yaml", "--log-level", "verbose"}, "'verbose' is not a level"},
      {{"--config", "a.yaml", "--log-level", "INFO"}, "'INFO' is not a level"},
      {{"--check-config", "a.yaml", "--log-level", "debug"}, "--log-level goes with --config"},
      {{"--log-level", "debug"}, "no action given"},
  };
  for (const RefuseCase& c : cases) {
    Result<CommandLine> command = ParseCommandLine(c.args);
    ASSERT_FALSE(command.ok()) << c.expected;
    EXPECT_EQ(command.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(command.status().message().find(c.expected), std::string::npos)
        << command.status().message();
  }
}

TEST(CommandLine, TakesALogLevelWithConfigInEitherOrder) {
  using agent::LogLevel;
  const struct {
    std::vector<std::string_view> args;
    std::optional<LogLevel> level;
  } cases[] = {
      {{"--config", "a.yaml"}, std::nullopt},
      {{"--config", "a.yaml", "--log-level", "debug"}, LogLevel::kDebug},
      {{"--log-level=warning", "--config=a.yaml"}, LogLevel::kWarning},
      {{"--log-level", "error", "--config", "a.yaml"}, LogLevel::kError},
      {{"--config", "a.yaml", "--log-level=notice"}, LogLevel::kNotice},
      {{"--config", "a.yaml", "--log-level", "info"}, LogLevel::kInfo},
  };
  for (const auto& c : cases) {
    Result<CommandLine> got = ParseCommandLine(c.args);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(got->action, CommandLine::Action::kRun);
    EXPECT_EQ(got->config_path, "a.yaml");
    EXPECT_EQ(got->log_level, c.level);
  }
}

TEST(CommandLine, UsageNamesEveryActionAndTheProgram) {
  const std::string usage = UsageText("/usr/sbin/nlbd");
  for (const char* word :
       {"/usr/sbin/nlbd --check-config FILE", "/usr/sbin/nlbd --cleanup --config FILE", "--version",
        "--help", "nlbd(8)"}) {
    EXPECT_NE(usage.find(word), std::string::npos) << word;
  }
  EXPECT_EQ(VersionText().rfind("nlbd ", 0), 0u);
}

}  // namespace
}  // namespace nlb
