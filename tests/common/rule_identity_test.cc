// Rules keyed by identity (docs/connection-tracking.md, "Reloads that renumber a rule"): the
// assignment seed comes from a rule's name, and a map, the moving buckets and the data path's
// rule numbering follow a rule by name when a reload inserts or removes a rule before it.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/converged_map.h"
#include "common/moving_buckets.h"
#include "common/rule_numbering.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::vector<ViewMember> Members(std::vector<uint16_t> ids, size_t rules,
                                std::vector<uint32_t> weights = {}) {
  std::vector<ViewMember> members;
  for (size_t k = 0; k < ids.size(); ++k) {
    ViewMember m;
    m.host_id = ids[k];
    m.boot_id = ids[k];
    m.rule_params.assign(rules, HostRuleParams{k < weights.size() ? weights[k] : 50, ids[k]});
    members.push_back(m);
  }
  return members;
}

ConvergedMap Map(const std::vector<ViewMember>& members, const std::vector<std::string>& names,
                 uint64_t generation) {
  const std::vector<FilteringMode> modes(names.size(), FilteringMode::kMultipleHost);
  ConvergedMap map = ComputeConvergedMap(members, modes, names);
  map.generation = generation;
  return map;
}

const RuleOwners& Named(const ConvergedMap& map, const std::string& name) {
  for (const RuleOwners& r : map.rules) {
    if (r.name == name) return r;
  }
  static const RuleOwners kNone;
  ADD_FAILURE() << "no rule " << name;
  return kNone;
}

TEST(RuleIdentityTest, SeedFollowsTheNameNotThePosition) {
  const std::vector<ViewMember> one = Members({1, 2, 3}, 1);
  const std::vector<ViewMember> two = Members({1, 2, 3}, 2);
  const ConvergedMap alone = Map(one, {"web"}, 1);
  const ConvergedMap after_insert = Map(two, {"api", "web"}, 2);
  EXPECT_EQ(alone.rules[0].bucket_owner, after_insert.rules[1].bucket_owner);
  EXPECT_EQ(alone.rules[0].bucket_owner,
            AssignBuckets(std::vector<MemberWeight>{{1, 50}, {2, 50}, {3, 50}}, RuleSeed("web")));
  // Two rules of one map are not assigned alike.
  EXPECT_NE(after_insert.rules[0].bucket_owner, after_insert.rules[1].bucket_owner);
}

TEST(RuleIdentityTest, MatchRulesByName) {
  const std::vector<std::string> from = {"api", "web", "mail"};
  const std::vector<std::string> to = {"web", "dns", "api"};
  EXPECT_EQ(MatchRulesByName(from, to), (std::vector<size_t>{2, 0, kRuleRemoved}));
  EXPECT_EQ(MatchRulesByName(std::vector<std::string>{}, to), std::vector<size_t>{});
}

TEST(RuleIdentityTest, RenumberMapKeepsOwnersAndGivesNewRulesNothing) {
  const ConvergedMap map = Map(Members({1, 2}, 2), {"mail", "web"}, 7);
  const std::vector<FilteringMode> modes = {FilteringMode::kMultipleHost,
                                            FilteringMode::kMultipleHost};
  const ConvergedMap next = RenumberMap(map, modes, std::vector<std::string>{"api", "web"});
  ASSERT_EQ(next.rules.size(), 2u);
  EXPECT_EQ(next.generation, 7u);
  EXPECT_EQ(next.view_digest, map.view_digest);
  EXPECT_EQ(next.rules[0].name, "api");
  EXPECT_TRUE(next.rules[0].bucket_owner.empty());  // owns nothing until the next map
  EXPECT_EQ(next.rules[1].name, "web");
  EXPECT_EQ(next.rules[1].bucket_owner, map.rules[1].bucket_owner);
}

TEST(RuleIdentityTest, SnapshotTakesOwnersAndMovingByName) {
  const ConvergedMap map = Map(Members({1, 2}, 2), {"mail", "web"}, 3);
  std::vector<PortRule> rules(2);
  rules[0].name = "web";  // index 1 in the map
  rules[1].name = "api";  // not in the map (a reload ahead of the next map)
  auto moving_web = std::make_shared<const BucketSet>();
  const std::vector<std::shared_ptr<const BucketSet>> moving = {nullptr, moving_web};
  const std::vector<std::shared_ptr<const BucketSet>> pending = {nullptr, nullptr};
  const MapSnapshot s = ToMapSnapshot(map, rules, {}, 1, true, moving, pending);
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].rule.name, "web");
  EXPECT_EQ(s.rules[0].bucket_owner, Named(map, "web").bucket_owner);
  EXPECT_EQ(s.rules[0].moving, moving_web);
  EXPECT_EQ(s.rules[1].rule.name, "api");
  EXPECT_TRUE(s.rules[1].bucket_owner.empty());
  EXPECT_EQ(s.rules[1].moving, nullptr);
}

// The moving computation across a reload, on one host (id 1), table-driven: the rules before and
// after, whether the weights changed (host 2 joins at the same time: web's buckets move), and
// what must hold for web and for the other rules.
struct MoveByNameCase {
  const char* description;
  std::vector<std::string> before;
  std::vector<std::string> after;
  bool host_joins;  // host 3 joins with the reload: some of web's buckets move from 1 to 3
};

bool Kept(const std::string& name, const std::vector<std::string>& before) {
  return MatchRulesByName(std::vector<std::string>{name}, before)[0] != kRuleRemoved;
}

class MovingByName : public ::testing::TestWithParam<MoveByNameCase> {};

TEST_P(MovingByName, KeptRuleComparesItsOwnOwners) {
  const MoveByNameCase& c = GetParam();
  const Clock::time_point t0{1h};
  MovingBuckets moving(1, 300s);
  const ConvergedMap first = Map(Members({1, 2}, c.before.size()), c.before, 1);
  moving.OnMapAdopted(nullptr, first, t0);
  // The first map presumes everything; the peer's report under it ends that.
  moving.OnPeerReport(2, 2, 1, first.view_digest, true, {});
  (void)moving.Snapshot();
  // The reload: Convergence renumbers the map and the moving state together.
  const std::vector<FilteringMode> modes(c.after.size(), FilteringMode::kMultipleHost);
  const ConvergedMap renumbered = RenumberMap(first, modes, c.after);
  moving.RenumberRules(MatchRulesByName(c.after, c.before));
  const std::vector<uint16_t> ids =
      c.host_joins ? std::vector<uint16_t>{1, 2, 3} : std::vector<uint16_t>{1, 2};
  const ConvergedMap next = Map(Members(ids, c.after.size()), c.after, 2);
  moving.OnMapAdopted(&renumbered, next, t0 + 1s);
  const std::vector<BucketSet>& holding = moving.holding();
  ASSERT_EQ(holding.size(), c.after.size());
  for (size_t r = 0; r < c.after.size(); ++r) {
    SCOPED_TRACE(c.after[r]);
    const bool kept = Kept(c.after[r], c.before);
    // Exactly the buckets host 1 lost under this very rule: none without a join, none for a
    // rule new in this map (it had no connections anywhere).
    uint32_t lost = 0;
    if (kept && c.host_joins) {
      const RuleOwners& old = Named(first, c.after[r]);
      for (uint32_t b = 0; b < kBucketCount; ++b) {
        const bool was = old.bucket_owner[b] == 1;
        const bool is = next.rules[r].bucket_owner[b] == 1;
        if (was && !is) ++lost;
        EXPECT_EQ(holding[r].Contains(b), was && !is) << "bucket " << b;
      }
      EXPECT_GT(lost, 0u);
    } else {
      EXPECT_TRUE(holding[r].Empty());
    }
    EXPECT_EQ(moving.HoldingCount(r), lost);
  }
  // Nothing is pending for rules new in this map: their buckets are simply owned.
  const auto& pending = moving.PendingSnapshot();
  for (size_t r = 0; r < c.after.size(); ++r) {
    const bool kept = Kept(c.after[r], c.before);
    if (!kept || !c.host_joins) {
      EXPECT_EQ(pending[r], nullptr) << c.after[r];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Reloads, MovingByName,
    ::testing::Values(
        MoveByNameCase{"inserted_before", {"web"}, {"api", "web"}, false},
        MoveByNameCase{"inserted_before_with_a_join", {"web"}, {"api", "web"}, true},
        MoveByNameCase{"removed_before", {"api", "web"}, {"web"}, false},
        MoveByNameCase{"removed_before_with_a_join", {"api", "web"}, {"web"}, true},
        MoveByNameCase{"reordered_with_a_join", {"a", "b", "web"}, {"web", "c", "a"}, true}),
    [](const ::testing::TestParamInfo<MoveByNameCase>& p) { return p.param.description; });

// Holdings taken before a reload stay with their rule when it is renumbered.
TEST(RuleIdentityTest, HoldingFollowsItsRuleThroughARenumbering) {
  const Clock::time_point t0{1h};
  MovingBuckets moving(1, 300s);
  const ConvergedMap first = Map(Members({1, 2}, 1), {"web"}, 1);
  moving.OnMapAdopted(nullptr, first, t0);
  const ConvergedMap joined = Map(Members({1, 2, 3}, 1), {"web"}, 2);
  moving.OnMapAdopted(&first, joined, t0 + 1s);
  const BucketSet held = moving.holding()[0];
  ASSERT_FALSE(held.Empty());
  // A peer reports under the old numbering; after the reload its report is web's, at index 1.
  BucketSet peer;
  peer.Add(5);
  moving.OnPeerReport(3, 3, 1, joined.view_digest, true, {peer});
  moving.RenumberRules(std::vector<size_t>{kRuleRemoved, 0});
  ASSERT_EQ(moving.holding().size(), 2u);
  EXPECT_TRUE(moving.holding()[0].Empty());
  EXPECT_EQ(moving.holding()[1], held);
  EXPECT_EQ(moving.HoldingCount(1), held.Count());
  // And back: removing the rule before web again.
  moving.RenumberRules(std::vector<size_t>{1});
  EXPECT_EQ(moving.holding()[0], held);
}

TEST(RuleIdentityTest, RuleRemapBetweenNumberings) {
  const RuleNumbering a{1, {"mail", "web", "dns"}};
  const RuleNumbering b{2, {"api", "web", "mail"}};
  RuleRemap remap{};
  EXPECT_TRUE(RuleRemapBetween(a, b, &remap));
  EXPECT_EQ(remap[0], 2);          // mail 0 -> 2
  EXPECT_EQ(remap[1], 1);          // web stays 1
  EXPECT_EQ(remap[2], kRuleGone);  // dns removed
  EXPECT_EQ(remap[3], kRuleGone);  // no rule had index 3
  const RuleNumbering appended{3, {"mail", "web", "dns", "ntp"}};
  EXPECT_FALSE(RuleRemapBetween(a, appended, &remap)) << "appending renumbers nothing";
  EXPECT_EQ(remap[2], 2);
}

}  // namespace
}  // namespace nlb
