#include "common/metrics_page.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/status_json.h"
#include "tests/support/host_status_fixture.h"

namespace nlb {
namespace {

std::string Render(const HostStatus& s) {
  Result<std::string> text = RenderMetrics(s);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? text.value() : "";
}

TEST(MetricsPageTest, ExposesTheSampleStatus) {
  const std::string text = Render(testing::SampleHostStatus());
  const char* const expected[] = {
      "nlb_info{host=\"1\",cluster=\"web\\\"farm\",version=\"0.1.0\"} 1\n",
      "nlb_members 2\n",
      "nlb_member_state{member=\"2\",address=\"198.18.0.12\",state=\"draining\"} 1\n",
      "nlb_member_rule_health{member=\"2\",rule=\"web\",health=\"drain\"} 1\n",
      "nlb_kept_out_hosts{member=\"3\",address=\"198.18.0.13\",reason=\"mismatched rules\"} 1\n",
      "nlb_rule_buckets_owned{rule=\"web\"} 8192\n",
      "nlb_rule_moving_buckets{rule=\"web\"} 2\n",
      "nlb_rule_packets_total{rule=\"web\",verdict=\"accepted\"} 100\n",
      "nlb_rule_bytes_total{rule=\"web\",verdict=\"dropped\"} 5760\n",
      "nlb_packets_total{reason=\"owned_bucket\",verdict=\"accepted\"} 100\n",
      "nlb_convergences_total 3\n",
      "nlb_convergence_duration_seconds_bucket{le=\"0.005\"} 1\n",
      "nlb_convergence_duration_seconds_bucket{le=\"0.5\"} 2\n",
      "nlb_convergence_duration_seconds_bucket{le=\"+Inf\"} 3\n",
      "nlb_convergence_duration_seconds_count 3\n",
      "nlb_loop_lag_seconds 0.002\n",
      "nlb_kernel_update_duration_seconds 0.08\n",
      "nlb_data_path{backend=\"capture\"} 1\n",
      "nlb_connection_table_fill_ratio 0.004\n",
      "nlb_health_check_up{rule=\"web\",kind=\"http\"} 1\n",
      "nlb_health_checks_total{rule=\"web\",kind=\"http\",result=\"failure\"} 1\n",
      "nlb_errors_total{error=\"heartbeat_bad_hmac\"} 2\n",
  };
  for (const char* line : expected) EXPECT_NE(text.find(line), std::string::npos) << line;
}

TEST(MetricsPageTest, NamesTheBpfBackEnd) {
  HostStatus s = testing::SampleHostStatus();
  s.data_path = "bpf";
  EXPECT_NE(Render(s).find("nlb_data_path{backend=\"bpf\"} 1\n"), std::string::npos);
}

TEST(MetricsPageTest, LoopLagIsLeftOutUntilMeasured) {
  HostStatus s = testing::SampleHostStatus();
  s.loop_lag_seconds.reset();
  s.loop_lag_max_seconds.reset();
  EXPECT_EQ(Render(s).find("nlb_loop_lag"), std::string::npos);
}

TEST(MetricsPageTest, AnEmptyStatusStillRendersEveryFamilyOnce) {
  const std::string text = Render(HostStatus{});
  EXPECT_NE(text.find("# TYPE nlb_members gauge\nnlb_members 0\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE nlb_connection_table_fill_ratio gauge\n"
                      "nlb_connection_table_fill_ratio 0\n"),
            std::string::npos);
}

// docs/operations.md lists every metric: each family the renderer writes must be named there.
TEST(MetricsPageTest, EveryFamilyIsDocumented) {
  std::ifstream doc(std::string(NLB_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(doc.good()) << "docs/operations.md missing";
  std::stringstream buffer;
  buffer << doc.rdbuf();
  const std::string docs = buffer.str();
  std::istringstream lines(Render(testing::SampleHostStatus()));
  int families = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("# TYPE ")) continue;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    ++families;
    EXPECT_NE(docs.find("`" + name + "`"), std::string::npos) << name << " is not in the docs";
  }
  EXPECT_GT(families, 20);
}

TEST(StatusJsonTest, BucketOwnersGoAsRuns) {
  const std::string json = RenderStatusJson(testing::SampleHostStatus());
  EXPECT_NE(json.find(R"("owner_runs":[[1,8192],[2,8192]],"moving_buckets":[8192,8193])"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("owner_runs":[],"moving_buckets":[])"), std::string::npos);
  EXPECT_NE(json.find(R"("cluster":"web\"farm")"), std::string::npos);
  EXPECT_NE(
      json.find(R"("kept_out":[{"id":3,"address":"198.18.0.13","reason":"mismatched rules"}])"),
      std::string::npos);
  EXPECT_NE(json.find(R"("loop_lag_us":2000)"), std::string::npos);
  EXPECT_NE(
      json.find(R"({"id":2,"address":"198.18.0.12","state":"draining","health":{"web":"drain"}})"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("load":{"accepted_packets":100,)"), std::string::npos);
}

TEST(StatusJsonTest, UnmeasuredLoopLagIsNull) {
  HostStatus s;
  EXPECT_NE(RenderStatusJson(s).find(R"("loop_lag_us":null)"), std::string::npos);
}

}  // namespace
}  // namespace nlb
