// DecisionCounters: packets and bytes by reason, parse verdict and rule, as `nlbctl report` shows
// them; and the reasons' and verdicts' names, which are part of that output.
#include <gtest/gtest.h>

#include <set>
#include <string_view>
#include <vector>

#include "common/decision.h"
#include "tests/support/decision_table.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

TEST(DecisionCountersTest, CountsPacketsBytesAndParseVerdicts) {
  DecisionCounters counters;
  Decision owned;
  owned.verdict = Verdict::kAccept;
  owned.reason = DecisionReason::kOwnedBucket;
  Decision malformed;
  malformed.reason = DecisionReason::kMalformed;
  malformed.parse = ParseVerdict::kTruncatedTcp;
  Decision not_vip;
  not_vip.reason = DecisionReason::kNotForVip;
  not_vip.parse = ParseVerdict::kUnsupportedEthertype;

  counters.Count(owned, 100);
  counters.Count(owned, 60);
  counters.Count(malformed, 40);
  counters.Count(not_vip, 64);

  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOwnedBucket), 2u);
  EXPECT_EQ(counters.ReadBytes(DecisionReason::kOwnedBucket), 160u);
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kMalformed), 1u);
  EXPECT_EQ(counters.ReadBytes(DecisionReason::kMalformed), 40u);
  EXPECT_EQ(counters.ReadMalformed(ParseVerdict::kTruncatedTcp), 1u);
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kNotForVip), 1u);
  // Only malformed decisions count by parse verdict.
  EXPECT_EQ(counters.ReadMalformed(ParseVerdict::kUnsupportedEthertype), 0u);
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOtherHostsBucket), 0u);
}

TEST(DecisionCountersTest, CountsWhatDecideSays) {
  const MapSnapshot s = Snapshot(kDefaultHost);
  DecisionCounters counters;
  const std::vector<std::vector<uint8_t>> frames = {
      Tcp(kClient, kVip, 1, 9999), Tcp(kClient, kVip, 2, 9999), Tcp(kClient, kNotVip, 1, 80),
      test::Truncated(Tcp(kClient, kVip, 1, 80), 20)};
  for (const auto& frame : frames) {
    ParsedPacket packet;
    counters.Count(Decide(frame, s, &packet), static_cast<uint32_t>(frame.size()));
  }
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kDefaultHost), 2u);
  EXPECT_EQ(counters.ReadBytes(DecisionReason::kDefaultHost), 2 * frames[0].size());
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kNotForVip), 1u);
  EXPECT_EQ(counters.ReadMalformed(ParseVerdict::kTruncatedIpv4), 1u);
}

TEST(DecisionCountersTest, CountsPerRuleAndVerdict) {
  DecisionCounters counters;
  Decision accepted;
  accepted.verdict = Verdict::kAccept;
  accepted.reason = DecisionReason::kOwnedBucket;
  accepted.rule_index = 1;
  Decision dropped;
  dropped.reason = DecisionReason::kOtherHostsBucket;
  dropped.rule_index = 1;
  Decision no_rule;
  no_rule.verdict = Verdict::kAccept;
  no_rule.reason = DecisionReason::kDefaultHost;
  Decision beyond = accepted;
  beyond.rule_index = static_cast<int16_t>(DecisionCounters::kMaxCountedRules);
  counters.Count(accepted, 100);
  counters.Count(accepted, 50);
  counters.Count(dropped, 70);
  counters.Count(no_rule, 10);
  counters.Count(beyond, 10);
  EXPECT_EQ(counters.ReadRulePackets(1, true), 2u);
  EXPECT_EQ(counters.ReadRuleBytes(1, true), 150u);
  EXPECT_EQ(counters.ReadRulePackets(1, false), 1u);
  EXPECT_EQ(counters.ReadRuleBytes(1, false), 70u);
  EXPECT_EQ(counters.ReadRulePackets(0, true), 0u);
  EXPECT_EQ(counters.ReadRulePackets(DecisionCounters::kMaxCountedRules, true), 0u);
  // Every packet still counts by reason, whatever its rule.
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOwnedBucket), 3u);
}

TEST(DecisionNamesTest, UniqueAndStable) {
  std::set<std::string_view> names;
  for (int r = 0; r < static_cast<int>(DecisionReason::kCount); ++r) {
    const std::string_view name = DecisionReasonName(static_cast<DecisionReason>(r));
    EXPECT_NE(name, "unknown") << r;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(DecisionReason::kCount));
  EXPECT_EQ(DecisionReasonName(DecisionReason::kOwnedBucket), "owned_bucket");
  EXPECT_EQ(DecisionReasonName(DecisionReason::kNotForVip), "not_for_vip");
  EXPECT_EQ(DecisionReasonName(DecisionReason::kForeignVlan), "foreign_vlan");
  EXPECT_EQ(VerdictName(Verdict::kAccept), "accept");
  EXPECT_EQ(VerdictName(Verdict::kDrop), "drop");
  EXPECT_EQ(VerdictName(Verdict::kNeighbour), "neighbour");
}

}  // namespace
}  // namespace nlb
