// DecisionTotals over the BPF back end's counters: per-rule figures are found by the rule's name,
// so a snapshot in force that numbers the rules otherwise than the one the kernel worker last
// read (a reload between two reads) shows each rule its own figures, and a rule not read yet 0.
// Pure; no root.
#include "agent/decision_totals.h"

#include <gtest/gtest.h>

namespace nlb::agent {
namespace {

BpfPlane::Counters::Rule Rule(const char* name, uint64_t accepted, uint64_t dropped) {
  BpfPlane::Counters::Rule r;
  r.name = name;
  r.accepted = {accepted, accepted * 100};
  r.dropped = {dropped, dropped * 100};
  return r;
}

TEST(DecisionTotalsTest, BpfRuleFiguresByName) {
  BpfPlane::Counters c;
  c.by_rule = {Rule("web", 5, 1), Rule("probe", 7, 2)};
  const DecisionTotals t = DecisionTotals::Of(c);
  EXPECT_EQ(t.ReadRulePackets(0, "web", true), 5u);
  EXPECT_EQ(t.ReadRuleBytes(1, "probe", false), 200u);
  // The snapshot in force put "dns" first: web and probe keep their own figures.
  EXPECT_EQ(t.ReadRulePackets(0, "dns", true), 0u);
  EXPECT_EQ(t.ReadRulePackets(1, "web", true), 5u);
  EXPECT_EQ(t.ReadRulePackets(2, "probe", true), 7u);
  EXPECT_EQ(t.ReadRulePackets(2, "probe", false), 2u);
}

}  // namespace
}  // namespace nlb::agent
