// reload --cluster's check phase: which outcomes of reload-check let the reload go ahead, what
// each host's line says, the exit status and the JSON object.
#include "tools/cluster_reload.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nlb {
namespace {

HostOutcome Checked(const std::string& id, const std::string& digest,
                    const std::string& running = "0000000000000000") {
  HostOutcome o;
  o.host = {id, *IpAddress::Parse("198.18.1." + id), ""};
  o.summary = "ok";
  o.json = "{\"ok\":true,\"host\":" + id + ",\"digest\":\"" + digest + "\",\"running_digest\":\"" +
           running + "\"}";
  return o;
}

HostOutcome Failed(const std::string& id, ControlExit exit, const std::string& summary) {
  HostOutcome o;
  o.host = {id, *IpAddress::Parse("198.18.1." + id), ""};
  o.exit = exit;
  o.summary = summary;
  o.json = "{\"ok\":false,\"host\":" + id + "}";
  return o;
}

TEST(ClusterReloadTest, SameDigestEverywhereProceeds) {
  const std::vector<HostOutcome> checks = {Checked("1", "aaaabbbbccccdddd"),
                                           Checked("2", "aaaabbbbccccdddd", "aaaabbbbccccdddd")};
  const ReloadCheckVerdict v = JudgeReloadChecks(checks);
  EXPECT_TRUE(v.proceed);
  EXPECT_EQ(v.digest, "aaaabbbbccccdddd");
  EXPECT_EQ(v.exit, ControlExit::kOk);
  ASSERT_EQ(v.notes.size(), 2u);
  EXPECT_EQ(v.notes[0], "ok: new digest aaaabbbbcccc (running 000000000000)");
  EXPECT_EQ(v.notes[1], "ok: new digest aaaabbbbcccc (same as running)");

  const std::vector<HostOutcome> reloads = {Failed("1", ControlExit::kOk, "ok")};
  EXPECT_EQ(ClusterReloadJson(checks, v, &reloads),
            R"({"ok":true,"digest":"aaaabbbbccccdddd","checks":[)" + checks[0].json + "," +
                checks[1].json + "],\"reloads\":[" + reloads[0].json + "]}\n");
}

TEST(ClusterReloadTest, DifferentDigestsAbortWithInvalid) {
  const std::vector<HostOutcome> checks = {Checked("1", "aaaabbbbccccdddd"),
                                           Checked("2", "aaaabbbbccccdddd"),
                                           Checked("3", "eeeeffff00001111")};
  const ReloadCheckVerdict v = JudgeReloadChecks(checks);
  EXPECT_FALSE(v.proceed);
  EXPECT_EQ(v.exit, ControlExit::kInvalid);
  EXPECT_EQ(v.digest, "");
  EXPECT_EQ(v.reason,
            "reload --cluster aborted, no host was changed: host 3 would switch to another cluster "
            "section than host 1 (the files differ)");
  EXPECT_EQ(v.notes[2],
            "ok: new digest eeeeffff0000 (running 000000000000), differs from host 1's "
            "aaaabbbbcccc");
  const std::string table = RenderReloadChecks(checks, v);
  EXPECT_EQ(table.substr(0, table.find('\n')), "HOST  ADDRESS     CHECK") << table;
  EXPECT_NE(table.find("3     198.18.1.3  ok: new digest eeeeffff0000"), std::string::npos)
      << table;
  EXPECT_EQ(ClusterReloadJson(checks, v, nullptr).find(R"({"ok":false,"error":"reload --cluster)"),
            0u);
}

TEST(ClusterReloadTest, ARefusalAbortsWithThatHostsStatus) {
  const std::vector<HostOutcome> checks = {
      Checked("1", "aaaabbbbccccdddd"),
      Failed("2", ControlExit::kUnreachable, "unreachable: host 198.18.1.2:2505 unreachable"),
      Failed("3", ControlExit::kInvalid, "invalid: reload refused: bad port"),
      Checked("4", "9999888877776666")};
  const ReloadCheckVerdict v = JudgeReloadChecks(checks);
  EXPECT_FALSE(v.proceed);
  EXPECT_EQ(v.exit, ControlExit::kUnreachable);
  EXPECT_EQ(v.reason,
            "reload --cluster aborted, no host was changed: hosts 2, 3 would not reload; host 4 "
            "would switch to another cluster section than host 1 (the files differ)");
  EXPECT_EQ(v.notes[1], "unreachable: host 198.18.1.2:2505 unreachable");
  EXPECT_EQ(v.notes[2], "invalid: reload refused: bad port");
}

TEST(ClusterReloadTest, AReplyWithoutDigestOrNoHostNeverProceeds) {
  HostOutcome old = Failed("1", ControlExit::kOk, "ok");
  old.json = R"({"ok":true,"host":1})";
  const ReloadCheckVerdict v = JudgeReloadChecks({old});
  EXPECT_FALSE(v.proceed);
  EXPECT_EQ(v.exit, ControlExit::kInternal);
  EXPECT_NE(v.notes[0].find("has no digest"), std::string::npos);
  EXPECT_FALSE(JudgeReloadChecks({}).proceed);
}

}  // namespace
}  // namespace nlb
