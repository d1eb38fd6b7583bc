// WriteMapHalf: a MapSnapshot becomes the BPF program's map half field by field (the layout is
// common/bpf/flow_key_layout.h), and snapshots the maps cannot hold are refused. Pure; no root.
#include "agent/bpf_map_writer.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tests/support/decision_table.h"

namespace nlb::agent {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

struct Half {
  nlb_config config{};
  std::vector<nlb_rule_buckets> buckets = std::vector<nlb_rule_buckets>(NLB_MAX_RULES);
};

TEST(BpfMapWriterTest, WritesHostsVipsRulesAndOwners) {
  MapSnapshot s = Snapshot(2);
  s.generation = 77;
  auto moving = std::make_shared<BucketSet>();
  moving->Add(5);
  moving->Add(16383);
  auto pending = std::make_shared<BucketSet>();
  pending->Add(5);
  s.rules[kWebNone].moving = moving;
  s.rules[kWebNone].pending = pending;
  auto half = std::make_unique<Half>();
  ASSERT_TRUE(WriteMapHalf(s, &half->config, half->buckets).ok());

  const nlb_config& c = half->config;
  EXPECT_EQ(c.local_host_id, 2);
  EXPECT_EQ(c.default_host_id, kDefaultHost);
  EXPECT_EQ(c.serving, 1);
  EXPECT_EQ(c.generation, 77u);
  ASSERT_EQ(c.vip_count, 3);
  EXPECT_EQ(c.vips[0].family, NLB_FAMILY_V4);
  EXPECT_EQ(c.vips[2].family, NLB_FAMILY_V6);
  EXPECT_EQ(c.vips[0].address[3], 100);
  ASSERT_EQ(c.rule_count, s.rules.size());

  const nlb_rule& web = c.rules[kWebNone];
  EXPECT_EQ(web.vip_family, NLB_FAMILY_V4);
  EXPECT_EQ(web.first_port, 80);
  EXPECT_EQ(web.last_port, 80);
  EXPECT_EQ(web.protocol, NLB_PROTOCOL_TCP);
  EXPECT_EQ(web.affinity, NLB_AFFINITY_NONE);
  EXPECT_EQ(web.has_buckets, 1);
  EXPECT_EQ(c.rules[kV6Network].ipv6_prefix, 48);
  EXPECT_EQ(c.rules[kAltOff].enabled, 0);
  EXPECT_EQ(c.rules[kMailSingleHost].mode, NLB_MODE_SINGLE);
  EXPECT_EQ(c.rules[kMailSingleHost].single_owner, kSingleOwner);
  EXPECT_EQ(c.rules[kMailSingleHost].has_buckets, 0);
  EXPECT_EQ(c.rules[kAllDnsNone].vip_family, NLB_FAMILY_ALL);

  for (uint32_t b : {0u, 5u, 6u, 16383u}) {
    EXPECT_EQ(half->buckets[kWebNone].bucket[b].owner, s.rules[kWebNone].bucket_owner[b]) << b;
  }
  EXPECT_EQ(half->buckets[kWebNone].bucket[5].flags, NLB_BUCKET_MOVING | NLB_BUCKET_PENDING);
  EXPECT_EQ(half->buckets[kWebNone].bucket[16383].flags, NLB_BUCKET_MOVING);
  EXPECT_EQ(half->buckets[kWebNone].bucket[6].flags, 0);
}

// The fragment rule per (VIP, protocol) is Decide's FragmentRuleIndex.
TEST(BpfMapWriterTest, FragmentRulesAreDecidesChoice) {
  const MapSnapshot s = Snapshot(1);
  auto half = std::make_unique<Half>();
  ASSERT_TRUE(WriteMapHalf(s, &half->config, half->buckets).ok());
  EXPECT_EQ(half->config.fragment_rule[0][0], kTelnetDisabled);  // kVip, TCP: lowest first port
  EXPECT_EQ(half->config.fragment_rule[0][1], kRangeNetwork);    // kVip, UDP
  EXPECT_EQ(half->config.fragment_rule[1][0], kAllWebSingleHost);
  EXPECT_EQ(half->config.fragment_rule[1][1], kAllDnsNone);
  EXPECT_EQ(half->config.fragment_rule[2][0], kV6Network);
  EXPECT_EQ(half->config.fragment_rule[2][1], kAllDnsNone);
}

TEST(BpfMapWriterTest, RefusesWhatTheMapsCannotHold) {
  auto half = std::make_unique<Half>();
  MapSnapshot many_rules = Snapshot(1);
  many_rules.rules.resize(NLB_MAX_RULES + 1, many_rules.rules[kMailSingleHost]);
  const Status rules = WriteMapHalf(many_rules, &half->config, half->buckets);
  EXPECT_EQ(rules.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(rules.message().find("at most 64"), std::string::npos) << rules.message();

  MapSnapshot many_vips = Snapshot(1);
  many_vips.vips.resize(NLB_MAX_VIPS + 1, kVip);
  EXPECT_EQ(WriteMapHalf(many_vips, &half->config, half->buckets).code(),
            ErrorCode::kInvalidArgument);

  MapSnapshot empty_vip = Snapshot(1);
  empty_vip.vips.push_back(IpAddress{});
  EXPECT_EQ(WriteMapHalf(empty_vip, &half->config, half->buckets).code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace nlb::agent
