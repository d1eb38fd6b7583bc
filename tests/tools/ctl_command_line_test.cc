// nlbctl's command line: each accepted form gives the expected request and options; each bad
// one is refused with a sentence naming the problem and exit status 2 (docs/control.md).
#include "tools/ctl_command_line.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/nlbctl.h"

namespace nlb {
namespace {

using Args = std::vector<std::string_view>;

TEST(CtlCommandLineTest, AcceptsEachForm) {
  struct Case {
    Args args;
    std::vector<std::string> words;
    std::string host;  // "" when local
    int port;          // 0 when not given
    bool cluster;
    bool json;
    int timeout_ms;
  };
  const std::vector<Case> cases = {
      {{"query"}, {"query"}, "", 0, false, false, 3000},
      {{"--json", "query"}, {"query"}, "", 0, false, true, 3000},
      {{"query", "--json"}, {"query"}, "", 0, false, true, 3000},
      {{"--host", "198.18.1.2", "stop"},
       {"stop", "wait=10000"},
       "198.18.1.2",
       0,
       false,
       false,
       13000},
      {{"--host=198.18.1.2:2600", "--no-wait", "stop"},
       {"stop"},
       "198.18.1.2",
       2600,
       false,
       false,
       3000},
      {{"--host", "2001:2::2", "report"}, {"report"}, "2001:2::2", 0, false, false, 3000},
      {{"--host", "[2001:2::2]:9", "report"}, {"report"}, "2001:2::2", 9, false, false, 3000},
      {{"--cluster", "drainstop"}, {"drainstop", "wait=10000"}, "", 0, true, false, 13000},
      {{"--cluster", "--host", "198.18.1.1", "--wait-ms=2000", "start"},
       {"start", "wait=2000"},
       "198.18.1.1",
       0,
       true,
       false,
       5000},
      {{"--timeout-ms", "250", "--no-wait", "enable", "all"},
       {"enable", "all"},
       "",
       0,
       false,
       false,
       250},
      {{"disable", "198.18.0.100:80", "--wait-ms", "500"},
       {"disable", "198.18.0.100:80", "wait=500"},
       "",
       0,
       false,
       false,
       3500},
      {{"drain", "[2001:2::1]:443", "--no-wait"},
       {"drain", "[2001:2::1]:443"},
       "",
       0,
       false,
       false,
       3000},
      {{"drain", "http"}, {"drain", "http", "wait=10000"}, "", 0, false, false, 13000},
      {{"owner", "198.18.2.1:4000", "198.18.0.100:80", "--protocol", "udp"},
       {"owner", "198.18.2.1:4000", "198.18.0.100:80", "udp"},
       "",
       0,
       false,
       false,
       3000},
      {{"watch", "report", "--cluster", "--interval-ms", "500"},
       {"report"},
       "",
       0,
       true,
       false,
       3000},
      {{"--config", "/tmp/n.yaml", "--socket", "/tmp/s", "params"},
       {"params"},
       "",
       0,
       false,
       false,
       3000},
      {{"ip2mac", "198.18.0.100"}, {"ip2mac", "198.18.0.100"}, "", 0, false, false, 3000},
      {{"keygen", "--force", "/tmp/k"}, {"keygen", "/tmp/k"}, "", 0, false, false, 3000},
  };
  for (const Case& c : cases) {
    const Result<CtlCommandLine> line = ParseCtlCommandLine(c.args);
    ASSERT_TRUE(line.ok()) << c.args[0] << ": " << line.status().message();
    EXPECT_EQ(line->action, CtlCommandLine::Action::kRun);
    EXPECT_EQ(line->words, c.words);
    ASSERT_NE(line->command, nullptr);
    EXPECT_EQ(line->command->name, c.words[0]);
    EXPECT_EQ(line->host ? line->host->ToString() : "", c.host) << c.args[0];
    EXPECT_EQ(line->host_port.value_or(0), c.port) << c.args[0];
    EXPECT_EQ(line->cluster, c.cluster);
    EXPECT_EQ(line->json, c.json);
    EXPECT_EQ(line->timeout.count(), c.timeout_ms);
  }
}

TEST(CtlCommandLineTest, HelpForms) {
  struct Case {
    Args args;
    std::string command;  // "" for the general help
  };
  const std::vector<Case> cases = {
      {{"--help"}, ""},
      {{"-h"}, ""},
      {{"help"}, ""},
      {{"help", "drain"}, "drain"},
      {{"drain", "--help"}, "drain"},
      {{"keygen", "-h"}, "keygen"},
  };
  for (const Case& c : cases) {
    const Result<CtlCommandLine> line = ParseCtlCommandLine(c.args);
    ASSERT_TRUE(line.ok()) << c.args[0] << ": " << line.status().message();
    EXPECT_EQ(line->action, CtlCommandLine::Action::kHelp);
    EXPECT_EQ(line->help_command ? std::string(line->help_command->name) : "", c.command);
  }
}

TEST(CtlCommandLineTest, RefusesBadCommandLinesWithExitStatus2) {
  struct Case {
    Args args;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {{}, "no command given"},
      {{"--json"}, "no command given"},
      {{"frob"}, "unknown command 'frob'"},
      {{"--frob", "query"}, "unknown option '--frob'"},
      {{"-x", "query"}, "unknown option '-x'"},
      {{"query", "now"}, "query takes no argument ('now' is extra)"},
      {{"enable"}, "enable needs RULE"},
      {{"enable", "80", "81"}, "enable takes one RULE ('81' is extra)"},
      {{"disable", "ht tp"}, "bad RULE 'ht tp'"},
      {{"drain", "198.18.0.100:99999"}, "'99999' is not a port"},
      {{"watch", "params"}, "watch shows query or report"},
      {{"--interval-ms", "50", "watch"}, "is not a number of milliseconds (100-"},
      {{"--interval-ms", "500", "stop"}, "--interval-ms goes with watch"},
      {{"--no-wait", "query"}, "--no-wait and --wait-ms go only with start"},
      {{"--wait-ms", "100", "reload"}, "--no-wait and --wait-ms go only with start"},
      {{"--no-wait", "--wait-ms", "100", "drain", "web"}, "contradict each other"},
      {{"--wait-ms", "0", "stop"}, "--wait-ms: '0' is not a number of milliseconds"},
      {{"owner"}, "owner needs CLIENT[:PORT]"},
      {{"owner", "198.18.2.1", "--protocol", "sctp"}, "'sctp' is not tcp or udp"},
      {{"query", "--protocol", "udp"}, "--protocol goes only with owner"},
      {{"owner", "nowhere"}, "'nowhere' is not CLIENT[:PORT]"},
      {{"owner", "--flows", "f", "198.18.2.1"}, "from --flows or from its arguments, not both"},
      {{"query", "--flows", "f"}, "--flows goes only with owner"},
      {{"owner", "--flows", "f", "--cluster"}, "--flows asks one agent"},
      {{"owner", "--flows", "f", "--protocol", "sctp"}, "'sctp' is not tcp or udp"},
      {{"ip2mac"}, "ip2mac needs VIP"},
      {{"ip2mac", "web"}, "ip2mac: 'web' is not an IP address"},
      {{"keygen"}, "keygen needs FILE"},
      {{"log-level"}, "log-level needs LEVEL"},
      {{"log-level", "loud"}, "log-level: 'loud' is not a log level"},
      {{"--host"}, "--host needs a value"},
      {{"--host", "", "query"}, "--host needs a non-empty value"},
      {{"--host", "web1", "query"}, "--host: 'web1' is not an IP address"},
      {{"--host", "198.18.1.2:", "query"}, "'' is not a port"},
      {{"--host", "198.18.1.2:0", "query"}, "'0' is not a port (1-65535)"},
      {{"--host", "[2001:2::2", "query"}, "is not ADDR or [IPv6]:PORT"},
      {{"--host", "198.18.1.2", "--host", "198.18.1.3", "query"}, "--host given twice"},
      {{"--timeout-ms", "0", "query"}, "--timeout-ms: '0' is not a number of milliseconds"},
      {{"--timeout-ms", "3s", "query"}, "'3s' is not a number of milliseconds"},
      {{"--timeout-ms", "600001", "query"}, "(1-600000)"},
      {{"--json=yes", "query"}, "--json takes no value"},
      {{"--force", "query"}, "--force goes only with keygen"},
      {{"--host", "198.18.1.2", "ip2mac", "198.18.0.1"}, "--host does not apply"},
      {{"--cluster", "keygen", "/tmp/k"}, "--cluster does not apply"},
      {{"--socket", "/tmp/s", "--host", "198.18.1.2", "query"}, "give one"},
      {{"help", "frob"}, "help: unknown command 'frob'"},
      {{"help", "query", "report"}, "help takes at most one COMMAND"},
      {{"", "query"}, "empty argument"},
  };
  for (const Case& c : cases) {
    const std::string what = c.args.empty() ? "(none)" : std::string(c.args[0]);
    const Result<CtlCommandLine> line = ParseCtlCommandLine(c.args);
    ASSERT_FALSE(line.ok()) << what;
    EXPECT_EQ(line.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(line.status().message().find(c.message_part), std::string::npos)
        << what << ": " << line.status().message();
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(RunNlbctl(c.args, out, err), 2) << what;
    EXPECT_EQ(out.str(), "");
    EXPECT_NE(err.str().find(c.message_part), std::string::npos) << err.str();
    EXPECT_NE(err.str().find("Usage: nlbctl"), std::string::npos) << err.str();
  }
}

TEST(CtlCommandLineTest, HelpTextsNameEveryCommandAndExitStatus) {
  const std::string usage = CtlUsageText();
  for (const ControlCommand& c : ControlCommands()) {
    EXPECT_NE(usage.find("  " + std::string(c.name)), std::string::npos) << c.name;
    const std::string help = CtlCommandHelpText(c);
    EXPECT_EQ(help.find("Usage: nlbctl [OPTIONS] " + std::string(c.name)), 0u) << help;
  }
  EXPECT_NE(usage.find("6 host unreachable, 7 timed out"), std::string::npos);
  std::ostringstream out;
  std::ostringstream err;
  const Args args = {"help", "enable"};
  EXPECT_EQ(RunNlbctl(args, out, err), 0);
  EXPECT_NE(out.str().find("RULE is all, PORT"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace nlb
