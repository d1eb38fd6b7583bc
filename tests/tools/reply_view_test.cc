// ViewReply: JSON replies -> exit status and readable text, including the refusals' mapping and
// replies nlbctl cannot read.
#include "tools/reply_view.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nlb {
namespace {

const char kQuery[] = R"({"ok":true,"host":1,"cluster":"web","state":"converged","default_host":1,)"
                      R"("converged":true,"serving":true,"generation":3,)"
                      R"("members":[{"id":1,"address":"198.18.1.1","state":"converged"},)"
                      R"({"id":2,"address":"198.18.1.2","state":"converged"}],)"
                      R"("kept_out":[{"id":4,"address":"198.18.1.4","reason":"mismatched rules"}],)"
                      R"("last_convergence":{"cause":"host 3 left","duration_ms":5210}})";

// A report as the agent writes it (agent/agent_views.cc, agent/agent_packets.cc), cut to a few
// fields of each kind: per-rule buckets, packets and connections are three tables.
const char kReport[] =
    R"({"ok":true,"host":2,"rules":[{"name":"web","buckets_owned":5461,"buckets":16384,)"
    R"("single_owner":0,"enabled":true},{"name":"mail","buckets_owned":0,"buckets":0,)"
    R"("single_owner":1,"enabled":true}],)"
    R"("packets":{"accepted":1234567890,"accepted_bytes":987654321098,"dropped":42,)"
    R"("dropped_bytes":2520,"rules":[{"name":"web","accepted":1234567800,)"
    R"("accepted_bytes":987654300000,"dropped":40,"dropped_bytes":2400},)"
    R"({"name":"mail","accepted":90,"accepted_bytes":21098,"dropped":2,"dropped_bytes":120}]},)"
    R"("connections":{"tracked":3,"rules":[{"name":"web","tracked":3,"moving_away_buckets":0,)"
    R"("moving_in_buckets":12},{"name":"mail","tracked":0,"moving_away_buckets":0,)"
    R"("moving_in_buckets":0}]}})";

// The text of every reply kind: scalars as aligned lines, nested objects as dotted names, arrays
// of objects (nested ones too) as tables after the lines, missing cells as "-".
TEST(ReplyViewTest, RepliesAsText) {
  struct Case {
    std::string name;
    std::string command;
    std::string reply;
    std::string host;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"query as tables", "query", kQuery, "1",
       "host 1: query ok\n"
       "cluster                       web\n"
       "state                         converged\n"
       "default_host                  1\n"
       "converged                     true\n"
       "serving                       true\n"
       "generation                    3\n"
       "last_convergence.cause        host 3 left\n"
       "last_convergence.duration_ms  5210\n"
       "\n"
       "members:\n"
       "  ID  ADDRESS     STATE\n"
       "  1   198.18.1.1  converged\n"
       "  2   198.18.1.2  converged\n"
       "\n"
       "kept_out:\n"
       "  ID  ADDRESS     REASON\n"
       "  4   198.18.1.4  mismatched rules\n"},
      {"nested counters and ragged rows", "report",
       R"({"ok":true,"host":2,"packets":{"accepted":10,"dropped":{"not_owner":7}},)"
       R"("rules":[{"rule":"http","buckets":30},{"rule":"dns","buckets":null,"draining":true}],)"
       R"("empty":[],"vips":["198.18.0.100","2001:2::100"]})",
       "2",
       "host 2: report ok\n"
       "packets.accepted           10\n"
       "packets.dropped.not_owner  7\n"
       "empty                      -\n"
       "vips                       198.18.0.100, 2001:2::100\n"
       "\n"
       "rules:\n"
       "  RULE  BUCKETS  DRAINING\n"
       "  http  30       -\n"
       "  dns   -        true\n"},
      {"report with per-rule packets", "report", kReport, "2",
       "host 2: report ok\n"
       "packets.accepted        1234567890\n"
       "packets.accepted_bytes  987654321098\n"
       "packets.dropped         42\n"
       "packets.dropped_bytes   2520\n"
       "connections.tracked     3\n"
       "\n"
       "rules:\n"
       "  NAME  BUCKETS_OWNED  BUCKETS  SINGLE_OWNER  ENABLED\n"
       "  web   5461           16384    0             true\n"
       "  mail  0              0        1             true\n"
       "\n"
       "packets.rules:\n"
       "  NAME  ACCEPTED    ACCEPTED_BYTES  DROPPED  DROPPED_BYTES\n"
       "  web   1234567800  987654300000    40       2400\n"
       "  mail  90          21098           2        120\n"
       "\n"
       "connections.rules:\n"
       "  NAME  TRACKED  MOVING_AWAY_BUCKETS  MOVING_IN_BUCKETS\n"
       "  web   3        0                    12\n"
       "  mail  0        0                    0\n"},
  };
  for (const Case& c : cases) {
    const ReplyView view = ViewReply(c.command, c.reply);
    EXPECT_EQ(view.exit, ControlExit::kOk) << c.name;
    EXPECT_EQ(view.host, c.host) << c.name;
    EXPECT_EQ(view.text, c.text) << c.name;
    // Readable in a 100-column terminal.
    size_t start = 0;
    for (size_t end; (end = view.text.find('\n', start)) != std::string::npos; start = end + 1) {
      EXPECT_LE(end - start, 100u) << c.name << ": " << view.text.substr(start, end - start);
    }
  }
}

TEST(ReplyViewTest, RefusalsMapToTheirExitStatus) {
  struct Case {
    std::string reply;
    ControlExit exit;
    std::string text;
  };
  const std::vector<Case> cases = {
      {R"({"ok":true,"host":3})", ControlExit::kOk, "host 3: stop ok\n"},
      {R"({"ok":false,"host":3,"code":"already","error":"host 3 is already stopped"})",
       ControlExit::kAlready, "host 3: stop already: host 3 is already stopped\n"},
      {R"({"ok":false,"host":3,"code":"refused","error":"suspended: only resume"})",
       ControlExit::kRefused, "host 3: stop refused: suspended: only resume\n"},
      {R"({"ok":false,"host":3,"code":"not_found","error":"no rule 81"})", ControlExit::kNotFound,
       "host 3: stop not_found: no rule 81\n"},
      {R"({"ok":false,"host":3,"code":"invalid","error":"bad"})", ControlExit::kInvalid,
       "host 3: stop invalid: bad\n"},
      {R"({"ok":false,"error":"empty request"})", ControlExit::kInternal,
       "agent: stop internal: empty request\n"},
      {R"({"ok":false,"host":3,"code":"internal"})", ControlExit::kInternal,
       "host 3: stop internal: no reason given\n"},
  };
  for (const Case& c : cases) {
    const ReplyView view = ViewReply("stop", c.reply);
    EXPECT_EQ(view.exit, c.exit) << c.reply;
    EXPECT_EQ(view.text, c.text) << c.reply;
  }
}

TEST(ReplyViewTest, UnreadableRepliesAreInternalErrors) {
  for (const std::string reply :
       {"", "not json", "[1,2]", R"({"host":1})", R"({"ok":"yes"})", R"({"ok":true,)"}) {
    const ReplyView view = ViewReply("query", reply);
    EXPECT_EQ(view.exit, ControlExit::kInternal) << reply;
    EXPECT_NE(view.error.find("not a control reply"), std::string::npos) << reply;
  }
}

TEST(ReplyViewTest, EscapedStringsAreReadBack) {
  const ReplyView view =
      ViewReply("params", R"({"ok":true,"host":1,"note":"a \"quoted\" word\tand \u00e9"})");
  EXPECT_EQ(view.text, "host 1: params ok\nnote  a \"quoted\" word\tand \xc3\xa9\n");
}

}  // namespace
}  // namespace nlb
