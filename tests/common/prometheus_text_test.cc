#include "common/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace nlb {
namespace {

TEST(PrometheusTextTest, FamilyWritesHelpAndTypeThenSamplesInLabelOrder) {
  PrometheusText p;
  p.Family("nlb_rule_packets_total", MetricType::kCounter, "Packets of a rule.");
  p.Sample({{"rule", "web"}, {"verdict", "accepted"}}, 12);
  p.Sample({{"verdict", "dropped"}, {"rule", "web"}}, 3);
  p.Family("nlb_members", MetricType::kGauge, "Hosts in the view.");
  p.Sample({}, 2);
  ASSERT_TRUE(p.status().ok()) << p.status().ToString();
  EXPECT_EQ(p.str(),
            "# HELP nlb_rule_packets_total Packets of a rule.\n"
            "# TYPE nlb_rule_packets_total counter\n"
            "nlb_rule_packets_total{rule=\"web\",verdict=\"accepted\"} 12\n"
            "nlb_rule_packets_total{verdict=\"dropped\",rule=\"web\"} 3\n"
            "# HELP nlb_members Hosts in the view.\n"
            "# TYPE nlb_members gauge\n"
            "nlb_members 2\n");
}

TEST(PrometheusTextTest, EscapesLabelValuesAndHelp) {
  struct Case {
    const char* value;
    const char* written;
  };
  const Case cases[] = {
      {"plain", "plain"},
      {"a\"b", "a\\\"b"},
      {"back\\slash", "back\\\\slash"},
      {"two\nlines", "two\\nlines"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},
      {"", ""},
  };
  for (const Case& c : cases) {
    PrometheusText p;
    p.Family("nlb_x", MetricType::kGauge, "help with \\ and\nnewline and \"quotes\"");
    p.Sample({{"l", c.value}}, 1);
    ASSERT_TRUE(p.status().ok());
    EXPECT_EQ(p.str(),
              "# HELP nlb_x help with \\\\ and\\nnewline and \"quotes\"\n# TYPE nlb_x gauge\n"
              "nlb_x{l=\"" +
                  std::string(c.written) + "\"} 1\n")
        << c.value;
  }
}

TEST(PrometheusTextTest, FormatsValues) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {-3, "-3"},
      {18446744073.0, "18446744073"},
      {0.25, "0.25"},
      {0.1, "0.1"},
      {1e300, "1e+300"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatMetricValue(c.value), c.text) << c.text;
}

TEST(PrometheusTextTest, HistogramIsCumulativeWithInfSumAndCount) {
  PrometheusText p;
  p.Family("nlb_convergence_duration_seconds", MetricType::kHistogram, "How long.");
  const std::vector<double> bounds{0.1, 1};
  const std::vector<uint64_t> counts{2, 0, 1};
  p.Histogram(std::vector<MetricLabel>{{"cluster", "c"}}, bounds, counts, 5.5);
  ASSERT_TRUE(p.status().ok()) << p.status().ToString();
  EXPECT_EQ(p.str(),
            "# HELP nlb_convergence_duration_seconds How long.\n"
            "# TYPE nlb_convergence_duration_seconds histogram\n"
            "nlb_convergence_duration_seconds_bucket{cluster=\"c\",le=\"0.1\"} 2\n"
            "nlb_convergence_duration_seconds_bucket{cluster=\"c\",le=\"1\"} 2\n"
            "nlb_convergence_duration_seconds_bucket{cluster=\"c\",le=\"+Inf\"} 3\n"
            "nlb_convergence_duration_seconds_sum{cluster=\"c\"} 5.5\n"
            "nlb_convergence_duration_seconds_count{cluster=\"c\"} 3\n");
}

// Each misuse is recorded (the first one) and writes nothing of the bad sample.
TEST(PrometheusTextTest, MisuseIsRecordedNotWritten) {
  struct Case {
    const char* what;
    void (*write)(PrometheusText&);
  };
  const Case cases[] = {
      {"bad metric name", [](PrometheusText& p) { p.Family("9lives", MetricType::kGauge, "h"); }},
      {"dash in name", [](PrometheusText& p) { p.Family("nlb-x", MetricType::kGauge, "h"); }},
      {"counter without _total",
       [](PrometheusText& p) { p.Family("nlb_packets", MetricType::kCounter, "h"); }},
      {"family twice",
       [](PrometheusText& p) {
         p.Family("nlb_a", MetricType::kGauge, "h");
         p.Family("nlb_a", MetricType::kGauge, "h");
       }},
      {"sample without family", [](PrometheusText& p) { p.Sample({}, 1); }},
      {"reserved label",
       [](PrometheusText& p) {
         p.Family("nlb_a", MetricType::kGauge, "h").Sample({{"__x", "v"}}, 1);
       }},
      {"label twice",
       [](PrometheusText& p) {
         p.Family("nlb_a", MetricType::kGauge, "h").Sample({{"a", "1"}, {"a", "2"}}, 1);
       }},
      {"plain sample in a histogram",
       [](PrometheusText& p) { p.Family("nlb_h", MetricType::kHistogram, "h").Sample({}, 1); }},
      {"le label on a histogram",
       [](PrometheusText& p) {
         const std::vector<double> b{1};
         const std::vector<uint64_t> c{1, 1};
         p.Family("nlb_h", MetricType::kHistogram, "h")
             .Histogram(std::vector<MetricLabel>{{"le", "1"}}, b, c, 1);
       }},
      {"bounds not ascending",
       [](PrometheusText& p) {
         const std::vector<double> b{1, 0.5};
         const std::vector<uint64_t> c{1, 1, 1};
         p.Family("nlb_h", MetricType::kHistogram, "h").Histogram({}, b, c, 1);
       }},
      {"counts of the wrong length",
       [](PrometheusText& p) {
         const std::vector<double> b{1};
         const std::vector<uint64_t> c{1};
         p.Family("nlb_h", MetricType::kHistogram, "h").Histogram({}, b, c, 1);
       }},
  };
  for (const Case& c : cases) {
    PrometheusText p;
    c.write(p);
    EXPECT_FALSE(p.status().ok()) << c.what;
    EXPECT_EQ(p.str().find("{"), std::string::npos) << c.what << ": " << p.str();
  }
}

TEST(PrometheusTextTest, NameGrammar) {
  EXPECT_TRUE(IsMetricName("nlb_x:y_1"));
  EXPECT_TRUE(IsMetricName(":x"));
  EXPECT_FALSE(IsMetricName(""));
  EXPECT_FALSE(IsMetricName("a b"));
  EXPECT_TRUE(IsLabelName("rule"));
  EXPECT_FALSE(IsLabelName("a:b"));
  EXPECT_FALSE(IsLabelName("1a"));
  EXPECT_FALSE(IsLabelName("__name__"));
}

}  // namespace
}  // namespace nlb
