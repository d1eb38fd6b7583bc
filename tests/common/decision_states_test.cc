// Decide() in the states the tables leave out: not serving (neighbours still answered), a host
// without an id or a rule without owners (nothing accepted), frames cut at every length
// (malformed), and the parse it hands back to the data path.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "common/decision.h"
#include "tests/support/decision_cluster.h"
#include "tests/support/decision_table.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using test::PacketBuilder;
using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

TEST(DecideTest, NotServingDropsVipTrafficButAnswersNeighbours) {
  MapSnapshot s = Snapshot(kDefaultHost);
  s.serving = false;
  ParsedPacket packet;
  const std::vector<std::vector<uint8_t>> data = {
      Tcp(kClient, kVip, 1, 80), Tcp(kClient, kVip, 1, 9999),
      PacketBuilder().Ipv4(kClient, kVip).IcmpEcho().Build(), Tcp(kClient6, kVip6, 1, 443)};
  for (const auto& frame : data) {
    const Decision d = Decide(frame, s, &packet);
    EXPECT_EQ(d.verdict, Verdict::kDrop);
    EXPECT_EQ(d.reason, DecisionReason::kNotServing);
  }
  EXPECT_EQ(Decide(Tcp(kClient, kNotVip, 1, 80), s, &packet).reason, DecisionReason::kNotForVip);
  const Decision arp = Decide(PacketBuilder().ArpRequest(kClient, kVip).Build(), s, &packet);
  EXPECT_EQ(arp.verdict, Verdict::kNeighbour);
  // Another VLAN's frame is that, serving or not: the tag is checked before the serving state.
  const auto tagged = PacketBuilder().Vlan(10).Ipv4(kClient, kVip).Tcp(1, 80).Build();
  EXPECT_EQ(Decide(tagged, s, &packet).reason, DecisionReason::kForeignVlan);
}

// A snapshot taken before this host has an id, or a rule with no owners yet, accepts nothing.
TEST(DecideTest, UnassignedOwnersAcceptNothing) {
  ParsedPacket packet;
  MapSnapshot no_id = Snapshot(kNoHost);
  no_id.default_host_id = kNoHost;
  no_id.rules[kMailSingleHost].single_owner = kNoHost;
  for (auto& rule : no_id.rules) {
    if (!rule.bucket_owner.empty())
      std::fill(rule.bucket_owner.begin(), rule.bucket_owner.end(), kNoHost);
  }
  EXPECT_EQ(Decide(Tcp(kClient, kVip, 1, 9999), no_id, &packet).reason,
            DecisionReason::kOtherDefaultHost);
  EXPECT_EQ(Decide(Tcp(kClient, kVip, 1, 25), no_id, &packet).reason,
            DecisionReason::kOtherSingleHost);
  EXPECT_EQ(Decide(Tcp(kClient, kVip, 1, 443), no_id, &packet).reason,
            DecisionReason::kOtherHostsBucket);

  MapSnapshot empty_map = Snapshot(1);
  empty_map.rules[kTlsSingle].bucket_owner.clear();
  const Decision d = Decide(Tcp(kClient, kVip, 1, 443), empty_map, &packet);
  EXPECT_EQ(d.verdict, Verdict::kDrop);
  EXPECT_EQ(d.reason, DecisionReason::kOtherHostsBucket);
}

TEST(DecideTest, TruncatedFramesAreMalformedAtEveryLength) {
  const MapSnapshot s = Snapshot(kDefaultHost);
  const std::vector<std::vector<uint8_t>> frames = {
      Tcp(kClient, kVip, 1, 80), Tcp(kClient6, kVip6, 1, 443),
      PacketBuilder().Vlan(3).Ipv4(kClient, kVip).Fragment(0, true).Udp(1, 53).Build(),
      PacketBuilder().ArpRequest(kClient, kVip).Build(),
      PacketBuilder()
          .Ipv6(kClient6, test::SolicitedNodeMulticast(kVip6))
          .NeighbourSolicitation(kVip6)
          .Build()};
  for (const auto& frame : frames) {
    for (size_t length = 0; length < frame.size(); ++length) {
      const std::vector<uint8_t> cut(frame.begin(), frame.begin() + length);
      ParsedPacket packet;
      const Decision d = Decide(cut, s, &packet);
      EXPECT_EQ(d.verdict, Verdict::kDrop) << length;
      EXPECT_EQ(d.reason, DecisionReason::kMalformed) << length;
      EXPECT_NE(d.parse, ParseVerdict::kOk) << length;
    }
  }
}

TEST(DecideTest, PacketReceivesTheParse) {
  const MapSnapshot s = Snapshot(kDefaultHost);
  ParsedPacket packet;
  (void)Decide(PacketBuilder().Vlan(5).Ipv4(kClient, kVip).Tcp(1, 80).PadTo(80).Build(), s,
               &packet);
  EXPECT_EQ(packet.l3_offset, 18u);
  EXPECT_EQ(packet.l3_length, 40u);
  EXPECT_EQ(packet.dst_port, 80);
}

}  // namespace
}  // namespace nlb
