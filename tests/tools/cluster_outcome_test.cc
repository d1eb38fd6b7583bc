// --cluster's pure pieces: the hosts a query reply lists, per-host outcomes, the table, the JSON
// array and the overall exit status.
#include "tools/cluster_outcome.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nlb {
namespace {

TEST(ClusterOutcomeTest, HostsFromQuery) {
  const Result<std::vector<ClusterHost>> hosts = ClusterHostsFromQuery(
      R"({"ok":true,"host":1,"members":[{"id":1,"address":"198.18.1.1","state":"converged"},)"
      R"({"id":2,"address":"2001:2::2","state":"converging"}],)"
      R"("kept_out":[{"id":4,"address":"198.18.1.4","reason":"mismatched rules"}]})");
  ASSERT_TRUE(hosts.ok()) << hosts.status().message();
  ASSERT_EQ(hosts->size(), 3u);
  EXPECT_EQ(hosts.value()[0].id, "1");
  EXPECT_EQ(hosts.value()[1].address.ToString(), "2001:2::2");
  EXPECT_EQ(hosts.value()[1].kept_out_reason, "");
  EXPECT_EQ(hosts.value()[2].kept_out_reason, "mismatched rules");
}

TEST(ClusterOutcomeTest, MalformedQueries) {
  struct Case {
    std::string reply;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"nonsense [", "is not"},
      {R"({"ok":true})", "has no list \"members\""},
      {R"({"members":[{"id":1}]})", "without id and address"},
      {R"({"members":[{"id":1,"address":"host-a"}]})", "gives host 1 the address 'host-a'"},
      {R"({"members":[],"kept_out":{"id":4}})", "has no list \"kept_out\""},
  };
  for (const Case& c : cases) {
    const auto hosts = ClusterHostsFromQuery(c.reply);
    ASSERT_FALSE(hosts.ok()) << c.reply;
    EXPECT_EQ(hosts.status().code(), ErrorCode::kMalformed);
    EXPECT_NE(hosts.status().message().find(c.message_part), std::string::npos)
        << hosts.status().message();
  }
}

TEST(ClusterOutcomeTest, TableJsonAndExit) {
  const ClusterHost one{"1", *IpAddress::Parse("198.18.1.1"), ""};
  const ClusterHost two{"2", *IpAddress::Parse("198.18.1.2"), ""};
  const ClusterHost four{"4", *IpAddress::Parse("198.18.1.4"), "mismatched rules"};
  const std::vector<HostOutcome> outcomes = {
      OutcomeOf(one, "stop", {ControlExit::kOk, R"({"ok":true,"host":1})", ""}),
      OutcomeOf(two, "stop",
                {ControlExit::kOk,
                 R"({"ok":false,"host":2,"code":"refused","error":"host 2 is suspended"})", ""}),
      OutcomeOf(four, "stop",
                {ControlExit::kUnreachable, "", "host 198.18.1.4:2505 unreachable: No route"}),
  };
  EXPECT_EQ(RenderClusterOutcomes(outcomes, false),
            "HOST  ADDRESS     RESULT\n"
            "1     198.18.1.1  ok\n"
            "2     198.18.1.2  refused: host 2 is suspended\n"
            "4     198.18.1.4  unreachable: host 198.18.1.4:2505 unreachable: No route (kept out: "
            "mismatched rules)\n");
  EXPECT_EQ(RenderClusterOutcomes(outcomes, true),
            R"([{"ok":true,"host":1},)"
            R"({"ok":false,"host":2,"code":"refused","error":"host 2 is suspended"},)"
            R"({"ok":false,"host":"4","address":"198.18.1.4","code":"unreachable",)"
            R"("error":"host 198.18.1.4:2505 unreachable: No route"}])"
            "\n");
  EXPECT_EQ(ClusterExit(outcomes), ControlExit::kRefused);
  EXPECT_EQ(ClusterExit({outcomes[0]}), ControlExit::kOk);
  EXPECT_EQ(ClusterExit({}), ControlExit::kOk);
}

}  // namespace
}  // namespace nlb

namespace nlb {
namespace {

TEST(ClusterOutcomeTest, AnErrorOfSeveralLinesFitsOneTableRow) {
  const ClusterHost host{"1", *IpAddress::Parse("198.18.1.1"), ""};
  ExchangeResult exchange;
  exchange.reply =
      R"({"ok":false,"host":1,"code":"invalid","error":"reload refused:\nnlb.yaml:3:4: bad\n"})";
  const HostOutcome o = OutcomeOf(host, "reload", exchange);
  EXPECT_EQ(o.summary, "invalid: reload refused: nlb.yaml:3:4: bad");
}

}  // namespace
}  // namespace nlb
