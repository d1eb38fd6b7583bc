// DecisionCounters::RenumberRules: after a reload renumbers the rules, each rule's per-rule
// figures are found at its new index, a removed rule's are gone and a new rule starts at 0; the
// per-reason figures do not move. Pure.
#include <gtest/gtest.h>

#include "common/decision.h"
#include "common/rule_numbering.h"

namespace nlb {
namespace {

Decision Of(int16_t rule, bool accepted) {
  Decision d;
  d.verdict = accepted ? Verdict::kAccept : Verdict::kDrop;
  d.reason = accepted ? DecisionReason::kOwnedBucket : DecisionReason::kOtherHostsBucket;
  d.rule_index = rule;
  return d;
}

TEST(DecisionCountersRenumberTest, FiguresFollowTheRuleName) {
  DecisionCounters counters;
  counters.Count(Of(0, true), 100);  // web
  counters.Count(Of(0, false), 10);
  counters.Count(Of(1, true), 200);  // probe
  counters.Count(Of(1, true), 200);
  counters.Count(Of(2, false), 30);  // old, removed by the reload
  // A reload inserts "dns" before "probe" and removes "old".
  const RuleNumbering before{1, {"web", "probe", "old"}};
  const RuleNumbering after{2, {"web", "dns", "probe"}};
  RuleRemap remap;
  ASSERT_TRUE(RuleRemapBetween(before, after, &remap));
  counters.RenumberRules(remap);
  EXPECT_EQ(counters.ReadRulePackets(0, true), 1u);  // web stays
  EXPECT_EQ(counters.ReadRuleBytes(0, true), 100u);
  EXPECT_EQ(counters.ReadRulePackets(0, false), 1u);
  EXPECT_EQ(counters.ReadRulePackets(1, true), 0u);  // dns is new
  EXPECT_EQ(counters.ReadRulePackets(1, false), 0u);
  EXPECT_EQ(counters.ReadRulePackets(2, true), 2u);  // probe moved from 1 to 2
  EXPECT_EQ(counters.ReadRuleBytes(2, true), 400u);
  EXPECT_EQ(counters.ReadRulePackets(2, false), 0u) << "old's drops are not probe's";
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOwnedBucket), 3u);
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOtherHostsBucket), 2u);
}

}  // namespace
}  // namespace nlb
