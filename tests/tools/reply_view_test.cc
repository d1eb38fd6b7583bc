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

TEST(ReplyViewTest, QueryAsTables) {
  const ReplyView view = ViewReply("query", kQuery);
  EXPECT_EQ(view.exit, ControlExit::kOk);
  EXPECT_EQ(view.host, "1");
  EXPECT_EQ(view.text,
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
            "  4   198.18.1.4  mismatched rules\n");
}

TEST(ReplyViewTest, NestedCountersAndRaggedRows) {
  const ReplyView view = ViewReply(
      "report",
      R"({"ok":true,"host":2,"packets":{"accepted":10,"dropped":{"not_owner":7}},)"
      R"("rules":[{"rule":"http","buckets":30},{"rule":"dns","buckets":null,"draining":true}],)"
      R"("empty":[],"vips":["198.18.0.100","2001:2::100"]})");
  EXPECT_EQ(view.exit, ControlExit::kOk);
  EXPECT_EQ(view.text,
            "host 2: report ok\n"
            "packets.accepted           10\n"
            "packets.dropped.not_owner  7\n"
            "empty                      -\n"
            "vips                       198.18.0.100, 2001:2::100\n"
            "\n"
            "rules:\n"
            "  RULE  BUCKETS  DRAINING\n"
            "  http  30       -\n"
            "  dns   -        true\n");
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
