// The control command table and ValidateControlRequest: what an agent may be asked, and the
// exit statuses replies map to (docs/control.md).
#include "common/control_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/control_exit_code.h"

namespace nlb {
namespace {

TEST(ControlCommandTest, ValidatesRequests) {
  struct Case {
    std::vector<std::string> words;
    std::string message_part;  // "" when valid
  };
  const std::vector<Case> cases = {
      {{"query"}, ""},
      {{"params"}, ""},
      {{"report"}, ""},
      {{"start"}, ""},
      {{"drainstop"}, ""},
      {{"resume"}, ""},
      {{"enable", "all"}, ""},
      {{"disable", "198.18.0.100:80"}, ""},
      {{"disable", "http"}, ""},
      {{"owner", "198.18.2.1:40000", "198.18.0.100:80", "udp"}, ""},
      {{"drain", "443"}, ""},
      {{"reload"}, ""},
      {{}, "no command given"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"ip2mac", "198.18.0.1"}, "unknown command 'ip2mac'"},  // nlbctl's own, not an agent's
      {{"keygen", "/tmp/k"}, "unknown command 'keygen'"},
      {{"query", "extra"}, "query takes no argument"},
      {{"enable"}, "enable takes one argument, RULE"},
      {{"drain", "80", "81"}, "drain takes one argument, RULE"},
      {{"disable", "198.18.0.100:99999"}, "bad RULE '198.18.0.100:99999'"},
      {{"owner", "198.18.2"}, "is not CLIENT[:PORT]"},
      {{"log-level", "debug"}, ""},
      {{"log-level", "error"}, ""},
      {{"log-level"}, "log-level takes one argument, LEVEL"},
      {{"log-level", "loud"}, "'loud' is not a log level"},
      {{"log-level", "Debug"}, "'Debug' is not a log level"},
  };
  for (const Case& c : cases) {
    const Status s = ValidateControlRequest(c.words);
    const std::string what = c.words.empty() ? "(none)" : c.words[0];
    if (c.message_part.empty()) {
      EXPECT_TRUE(s.ok()) << what << ": " << s.message();
    } else {
      ASSERT_FALSE(s.ok()) << what;
      EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(s.message().find(c.message_part), std::string::npos) << s.message();
    }
  }
}

TEST(ControlCommandTest, EveryCommandHasHelpAndIsFoundByName) {
  for (const ControlCommand& c : ControlCommands()) {
    EXPECT_EQ(FindControlCommand(c.name), &c);
    EXPECT_FALSE(c.summary.empty()) << c.name;
    EXPECT_FALSE(c.details.empty()) << c.name;
  }
  EXPECT_EQ(FindControlCommand("help"), nullptr);
}

TEST(ControlExitCodeTest, MapsReplyCodesAsDocumented) {
  struct Case {
    std::string code;
    ControlExit exit;
    int status;
  };
  const std::vector<Case> cases = {
      {"invalid", ControlExit::kInvalid, 2},   {"not_found", ControlExit::kNotFound, 3},
      {"already", ControlExit::kAlready, 4},   {"refused", ControlExit::kRefused, 5},
      {"internal", ControlExit::kInternal, 1}, {"something_new", ControlExit::kInternal, 1},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ExitForReplyCode(c.code), c.exit) << c.code;
    EXPECT_EQ(static_cast<int>(c.exit), c.status) << c.code;
    if (c.code != "something_new") {
      EXPECT_EQ(ControlExitWord(c.exit), c.code);
    }
  }
  EXPECT_EQ(static_cast<int>(ControlExit::kUnreachable), 6);
  EXPECT_EQ(static_cast<int>(ControlExit::kTimedOut), 7);
  EXPECT_EQ(ControlExitWord(ControlExit::kUnreachable), "unreachable");
  EXPECT_EQ(ControlExitWord(ControlExit::kTimedOut), "timed_out");
}

}  // namespace
}  // namespace nlb
