#include "common/status_http.h"

#include <gtest/gtest.h>

#include "tests/support/host_status_fixture.h"

namespace nlb {
namespace {

TEST(StatusHttpTest, RoutesAndRefuses) {
  struct Case {
    const char* method;
    const char* target;
    int status;
    const char* content_type;  // prefix
    const char* body_has;
  };
  const Case cases[] = {
      {"GET", "/metrics", 200, "text/plain; version=0.0.4", "# TYPE nlb_members gauge"},
      {"GET", "/metrics?name[]=x", 200, "text/plain; version=0.0.4", "nlb_members 2"},
      {"GET", "/status.json", 200, "application/json", "\"members\":["},
      {"GET", "/", 200, "text/html", "<title>nlb status</title>"},
      {"GET", "/index.html", 200, "text/html", "/status.json"},
      {"HEAD", "/metrics", 200, "text/plain; version=0.0.4", "nlb_members"},
      {"GET", "/metricsx", 404, "text/plain", "not found"},
      {"GET", "/../etc/passwd", 404, "text/plain", "not found"},
      {"POST", "/metrics", 405, "text/plain", "read-only"},
      {"PUT", "/status.json", 405, "text/plain", "read-only"},
      {"DELETE", "/", 405, "text/plain", "read-only"},
      {"PATCH", "/", 405, "text/plain", "read-only"},
      {"OPTIONS", "/", 405, "text/plain", "read-only"},
      {"get", "/", 405, "text/plain", "read-only"},
  };
  testing::FixedStatusSource source(testing::SampleHostStatus());
  for (const Case& c : cases) {
    const HttpAnswer a = AnswerHttp(c.method, c.target, source);
    EXPECT_EQ(a.status, c.status) << c.method << " " << c.target;
    EXPECT_TRUE(a.content_type.starts_with(c.content_type)) << c.method << " " << c.target;
    EXPECT_NE(a.body.find(c.body_has), std::string::npos) << c.method << " " << c.target;
    EXPECT_EQ(a.head_only, std::string_view(c.method) == "HEAD");
  }
}

TEST(StatusHttpTest, RefusedRequestsNeverReadTheAgent) {
  testing::FixedStatusSource source(testing::SampleHostStatus());
  (void)AnswerHttp("POST", "/metrics", source);
  (void)AnswerHttp("GET", "/nothing", source);
  (void)AnswerHttp("GET", "/", source);
  EXPECT_EQ(source.calls(), 0);
}

// The page must load nothing from elsewhere: no external scripts, styles, fonts or images.
TEST(StatusHttpTest, StatusPageIsSelfContained) {
  const std::string_view page = StatusPageHtml();
  ASSERT_GT(page.size(), 1000u);
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  for (const char* bad : {"http://", "https://", "src=", "<link", "@import", "url("}) {
    EXPECT_EQ(page.find(bad), std::string_view::npos) << bad;
  }
  EXPECT_NE(page.find("fetch(\"/status.json\""), std::string_view::npos);
}

}  // namespace
}  // namespace nlb
