// The merged --cluster query/report table: rows per host from canned query and report replies,
// rule columns, packets/s from two samples, health when the reply has it, hosts that did not
// answer, the JSON document and the exit status.
#include "tools/cluster_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/json_reply.h"

namespace nlb {
namespace {

using std::chrono::milliseconds;

const std::chrono::steady_clock::time_point kStart{};

std::string Query(int host, const std::string& state) {
  return "{\"ok\":true,\"host\":" + std::to_string(host) + ",\"state\":\"" + state + "\"}";
}

// A report with rules http and dns; health, when given, is put into each rule verbatim.
std::string Report(int host, int http, int dns, int accepted, int tracked,
                   const std::string& health = "") {
  const std::string h = health.empty() ? "" : ",\"health\":" + health;
  return "{\"ok\":true,\"host\":" + std::to_string(host) +
         ",\"rules\":[{\"name\":\"http\",\"buckets_owned\":" + std::to_string(http) + h +
         "},{\"name\":\"dns\",\"buckets_owned\":" + std::to_string(dns) + h +
         "}],\"packets\":{\"accepted\":" + std::to_string(accepted) +
         ",\"dropped\":5},\"errors\":{\"truncated\":1,\"capture_errors\":2},"
         "\"connections\":{\"tracked\":" +
         std::to_string(tracked) + "}}";
}

ClusterHost Host(const std::string& id) { return {id, *IpAddress::Parse("198.18.1." + id), ""}; }

HostSample Sample(const std::string& id, const std::string& query, const std::string& report,
                  milliseconds at) {
  HostSample s;
  s.query = OutcomeOf(Host(id), "query", {ControlExit::kOk, query, ""});
  s.report = OutcomeOf(Host(id), "report", {ControlExit::kOk, report, ""});
  s.at = kStart + at;
  return s;
}

HostSample Unreachable(const std::string& id) {
  HostSample s;
  const ExchangeResult none{ControlExit::kUnreachable, "", "host 198.18.1." + id + " unreachable"};
  s.query = OutcomeOf(Host(id), "query", none);
  s.report = OutcomeOf(Host(id), "report", none);
  return s;
}

TEST(ClusterTableTest, Tables) {
  struct Case {
    std::string name;
    ClusterTableKind kind;
    std::vector<HostSample> before;
    std::vector<HostSample> now;
    std::string table;
  };
  const std::vector<Case> cases = {
      {"one sample: no rate",
       ClusterTableKind::kQuery,
       {},
       {Sample("1", Query(1, "converged"), Report(1, 8192, 16384, 100, 3), milliseconds(0)),
        Sample("2", Query(2, "converged"), Report(2, 8192, 0, 40, 0), milliseconds(0))},
       "HOST  ADDRESS     STATE      BUCKETS http  BUCKETS dns  CONNS  PKTS/S  HEALTH\n"
       "1     198.18.1.1  converged  8192          16384        3      -       -\n"
       "2     198.18.1.2  converged  8192          0            0      -       -\n"},
      {"two samples half a second apart",
       ClusterTableKind::kQuery,
       {Sample("1", Query(1, "converged"), Report(1, 8192, 16384, 100, 3), milliseconds(0)),
        Sample("2", Query(2, "converged"), Report(2, 8192, 0, 40, 0), milliseconds(0))},
       {Sample("1", Query(1, "converged"), Report(1, 8192, 16384, 600, 3), milliseconds(500)),
        Sample("2", Query(2, "draining"), Report(2, 8192, 0, 40, 0), milliseconds(500))},
       "HOST  ADDRESS     STATE      BUCKETS http  BUCKETS dns  CONNS  PKTS/S  HEALTH\n"
       "1     198.18.1.1  converged  8192          16384        3      1000    -\n"
       "2     198.18.1.2  draining   8192          0            0      0       -\n"},
      {"a counter that went back (restart) has no rate; a new host has none either",
       ClusterTableKind::kQuery,
       {Sample("1", Query(1, "converged"), Report(1, 16384, 16384, 900, 0), milliseconds(0))},
       {Sample("1", Query(1, "converged"), Report(1, 8192, 16384, 10, 0), milliseconds(1000)),
        Sample("3", Query(3, "converging"), Report(3, 8192, 0, 10, 0), milliseconds(1000))},
       "HOST  ADDRESS     STATE       BUCKETS http  BUCKETS dns  CONNS  PKTS/S  HEALTH\n"
       "1     198.18.1.1  converged   8192          16384        0      -       -\n"
       "3     198.18.1.3  converging  8192          0            0      -       -\n"},
      {"health as a word and as an object with a state",
       ClusterTableKind::kQuery,
       {},
       {Sample("1", Query(1, "converged"), Report(1, 8192, 8192, 0, 0, "\"up\""), milliseconds(0)),
        Sample("2", Query(2, "converged"), Report(2, 8192, 8192, 0, 0, R"({"state":"down"})"),
               milliseconds(0))},
       "HOST  ADDRESS     STATE      BUCKETS http  BUCKETS dns  CONNS  PKTS/S  HEALTH\n"
       "1     198.18.1.1  converged  8192          8192         0      -       http=up,dns=up\n"
       "2     198.18.1.2  converged  8192          8192         0      -       "
       "http=down,dns=down\n"},
      {"health as a list of checks in the reply",
       ClusterTableKind::kQuery,
       {},
       {Sample("1", Query(1, "converged"),
               R"({"ok":true,"host":1,"rules":[{"name":"http","buckets_owned":1}],)"
               R"("health":[{"rule":"http","status":"failing","verdict":"drain"}]})",
               milliseconds(0))},
       "HOST  ADDRESS     STATE      BUCKETS http  CONNS  PKTS/S  HEALTH\n"
       "1     198.18.1.1  converged  1             -      -       http=drain\n"},
      {"report view: totals and errors; an unreachable host says why",
       ClusterTableKind::kReport,
       {},
       {Sample("1", Query(1, "converged"), Report(1, 16384, 16384, 7, 1), milliseconds(0)),
        Unreachable("2")},
       "HOST  ADDRESS     STATE                                     BUCKETS http  BUCKETS dns  "
       "CONNS  PKTS/S  HEALTH  ACCEPTED  DROPPED  ERRORS\n"
       "1     198.18.1.1  converged                                 16384         16384        "
       "1      -       -       7         5        3\n"
       "2     198.18.1.2  unreachable: host 198.18.1.2 unreachable  -             -            "
       "-      -       -       -         -        -\n"},
      {"a host that answers query but not report says so in its state",
       ClusterTableKind::kQuery,
       {},
       {[] {
         HostSample s = Sample("1", Query(1, "converged"), "", milliseconds(0));
         s.report = OutcomeOf(Host("1"), "report", {ControlExit::kTimedOut, "", "no reply"});
         return s;
       }()},
       "HOST  ADDRESS     STATE                                   CONNS  PKTS/S  HEALTH\n"
       "1     198.18.1.1  converged (report timed_out: no reply)  -      -       -\n"},
      {"a reply nlbctl cannot read leaves its cells empty",
       ClusterTableKind::kQuery,
       {},
       {Sample("1", Query(1, "converged"), "{\"ok\":true,\"host\":1,\"rules\":7}",
               milliseconds(0))},
       "HOST  ADDRESS     STATE      CONNS  PKTS/S  HEALTH\n"
       "1     198.18.1.1  converged  -      -       -\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RenderClusterTable(c.kind, c.now, c.before), c.table) << c.name;
  }
}

TEST(ClusterTableTest, RateNeedsTheCounterAndTime) {
  const HostSample a = Sample("1", Query(1, "x"), Report(1, 0, 0, 100, 0), milliseconds(0));
  const HostSample b = Sample("1", Query(1, "x"), Report(1, 0, 0, 300, 0), milliseconds(2000));
  EXPECT_DOUBLE_EQ(*AcceptedPerSecond(a, b), 100.0);
  EXPECT_FALSE(AcceptedPerSecond(a, a).has_value());  // no time passed
  EXPECT_FALSE(AcceptedPerSecond(b, a).has_value());  // went back
  EXPECT_FALSE(AcceptedPerSecond(a, Unreachable("1")).has_value());
}

TEST(ClusterTableTest, JsonHoldsEveryReplyAndTheRate) {
  const std::vector<HostSample> before = {
      Sample("1", Query(1, "converged"), Report(1, 1, 2, 100, 0), milliseconds(0))};
  const std::vector<HostSample> now = {
      Sample("1", Query(1, "converged"), Report(1, 1, 2, 350, 0), milliseconds(1000)),
      Unreachable("2")};
  const std::optional<Json> doc = ParseJson(ClusterTableJson(now, before));
  ASSERT_TRUE(doc && doc->is_array() && doc->size() == 2);
  EXPECT_EQ((*doc)[0]["id"], "1");
  EXPECT_EQ((*doc)[0]["query"]["state"], "converged");
  EXPECT_EQ((*doc)[0]["report"]["packets"]["accepted"], 350);
  EXPECT_EQ((*doc)[0]["accepted_per_second"], 250);
  EXPECT_EQ((*doc)[1]["address"], "198.18.1.2");
  EXPECT_EQ((*doc)[1]["query"]["code"], "unreachable");
  EXPECT_TRUE((*doc)[1]["accepted_per_second"].is_null());
  EXPECT_EQ(ClusterTableExit(now), ControlExit::kUnreachable);
  EXPECT_EQ(ClusterTableExit(before), ControlExit::kOk);
}

}  // namespace
}  // namespace nlb
