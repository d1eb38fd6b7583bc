// The BPF program's per-rule counters (map nlb_rule_counters, read by BpfPlane::ReadCounters)
// move as Decide() says: per rule and verdict, packets and bytes, over the decision tables and
// random frames on every host's map; and a rule's figures stay with its name when a reload
// renumbers the rules, while a new rule, even in a slot another rule left, starts at 0.
// Needs root and a kernel with BPF; skips with the reason otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "agent/bpf_plane.h"
#include "common/decision.h"
#include "tests/agent/bpf_plane_fixture.h"
#include "tests/agent/bpf_test_run.h"
#include "tests/support/decision_table.h"
#include "tests/support/random_frames.h"

namespace nlb {
namespace {

using agent::BpfPlane;
using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

class BpfRuleCountersTest : public test::BpfPlaneFixture {
 protected:
  static void SetUpTestSuite() {
    BpfPlane::LoadOptions small;  // the flow maps play no part here
    small.flow_capacity = 4096;
    Load(small);
  }
  static std::vector<BpfPlane::Counters::Rule> Read() {
    const Result<BpfPlane::Counters> c = plane_->ReadCounters();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->by_rule : std::vector<BpfPlane::Counters::Rule>{};
  }
};

TEST_F(BpfRuleCountersTest, MoveAsDecideSays) {
  test::RandomFrames random(11, {kVip, kVip2, kVip6}, {80, 443, 1500, 25, 23, 8080, 53, 9999});
  for (uint16_t host = 1; host <= kHosts; ++host) {
    const MapSnapshot s = Snapshot(host);
    Install(s);
    const std::vector<BpfPlane::Counters::Rule> before = Read();
    ASSERT_EQ(before.size(), s.rules.size());
    std::vector<BpfPlane::Counters::Rule> want(s.rules.size());
    std::vector<std::vector<uint8_t>> frames;
    for (Case& c : TableCases()) frames.push_back(std::move(c.frame));
    for (int i = 0; i < 5000; ++i) frames.push_back(random.Next());
    for (const std::vector<uint8_t>& frame : frames) {
      if (frame.size() < 14) continue;
      ParsedPacket packet;
      const Decision d = Decide(frame, s, &packet);
      if (test::RunProgram(plane_->program_fd(), frame).action == -EINVAL) continue;
      if (d.rule_index < 0) continue;
      BpfPlane::Counters::Rule& r = want[static_cast<size_t>(d.rule_index)];
      nlb_counter& c = d.verdict == Verdict::kAccept ? r.accepted : r.dropped;
      c.packets += 1;
      c.bytes += frame.size();
    }
    const std::vector<BpfPlane::Counters::Rule> after = Read();
    ASSERT_EQ(after.size(), s.rules.size());
    uint64_t accepted = 0, dropped = 0;
    for (size_t i = 0; i < s.rules.size(); ++i) {
      const std::string what = "host " + std::to_string(host) + " rule " + s.rules[i].rule.name;
      EXPECT_EQ(after[i].accepted.packets - before[i].accepted.packets, want[i].accepted.packets)
          << what;
      EXPECT_EQ(after[i].accepted.bytes - before[i].accepted.bytes, want[i].accepted.bytes) << what;
      EXPECT_EQ(after[i].dropped.packets - before[i].dropped.packets, want[i].dropped.packets)
          << what;
      EXPECT_EQ(after[i].dropped.bytes - before[i].dropped.bytes, want[i].dropped.bytes) << what;
      accepted += want[i].accepted.packets;
      dropped += want[i].dropped.packets;
    }
    EXPECT_GT(accepted, 100u);  // the test can fail: both verdicts happen on several rules
    EXPECT_GT(dropped, 100u);
  }
}

// Frames to kVip:80 from n client ports.
void Send(int program_fd, int n) {
  for (int i = 0; i < n; ++i) {
    const auto port = static_cast<uint16_t>(30000 + i);
    ASSERT_GE(test::RunProgram(program_fd, Tcp(kClient, kVip, port, 80)).action, 0);
  }
}

uint64_t Packets(const BpfPlane::Counters::Rule& r) {
  return r.accepted.packets + r.dropped.packets;
}

TEST_F(BpfRuleCountersTest, FiguresFollowTheNameThroughRenumberings) {
  MapSnapshot s = Snapshot(1);
  Install(s);
  const uint64_t web_before = Packets(Read()[kWebNone]);
  Send(plane_->program_fd(), 50);
  ASSERT_EQ(Packets(Read()[kWebNone]), web_before + 50);

  // A reload puts a rule before it, covering the same VIP and port: web is index 1 now.
  MapSnapshot renumbered = s;
  RuleMap first = s.rules[kWebNone];
  first.rule.name = "first";
  renumbered.rules.insert(renumbered.rules.begin(), first);
  Install(renumbered);
  std::vector<BpfPlane::Counters::Rule> r = Read();
  ASSERT_EQ(r.size(), s.rules.size() + 1);
  EXPECT_EQ(r[0].name, "first");
  EXPECT_EQ(r[1].name, s.rules[kWebNone].rule.name);
  EXPECT_EQ(Packets(r[1]), web_before + 50) << "web's figures follow it to index 1";
  EXPECT_EQ(Packets(r[0]), 0u) << "a new rule starts at 0";
  Send(plane_->program_fd(), 20);  // now taken by "first"
  r = Read();
  EXPECT_EQ(Packets(r[0]), 20u);
  EXPECT_EQ(Packets(r[1]), web_before + 50);

  // "first" goes and "second" comes; then "second" goes and "third" comes: "third" is given the
  // slot "first" left (free again one Publish later) and must not inherit its 20.
  MapSnapshot second = renumbered;
  second.rules[0].rule.name = "second";
  Install(second);
  EXPECT_EQ(Packets(Read()[0]), 0u);
  Send(plane_->program_fd(), 5);
  MapSnapshot third = renumbered;
  third.rules[0].rule.name = "third";
  Install(third);
  r = Read();
  EXPECT_EQ(Packets(r[0]), 0u);
  EXPECT_EQ(Packets(r[1]), web_before + 50);
  Send(plane_->program_fd(), 3);
  EXPECT_EQ(Packets(Read()[0]), 3u);

  // Back to the first numbering: web at index 0 with everything it counted.
  Install(s);
  EXPECT_EQ(Packets(Read()[kWebNone]), web_before + 50);
}

}  // namespace
}  // namespace nlb
