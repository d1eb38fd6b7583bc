// RuleCounterSlots: a rule keeps its counter slot by name; a new rule takes a slot that no
// published half uses, so never one the last Publish freed; repeated names are rules of their
// own. Pure; no root.
#include "agent/rule_counter_slots.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace nlb::agent {
namespace {

std::vector<uint8_t> Publish(RuleCounterSlots& slots, const std::vector<std::string>& names,
                             std::vector<uint8_t>* fresh = nullptr) {
  RuleCounterSlots::Plan plan = slots.Assign(names);
  if (fresh != nullptr) *fresh = plan.fresh;
  slots.Commit(plan);
  return slots.slots();
}

TEST(RuleCounterSlotsTest, KeepsSlotsByName) {
  RuleCounterSlots slots;
  std::vector<uint8_t> fresh;
  EXPECT_EQ(Publish(slots, {"a", "b", "c"}, &fresh), (std::vector<uint8_t>{0, 1, 2}));
  EXPECT_EQ(fresh, (std::vector<uint8_t>{0, 1, 2}));
  EXPECT_EQ(Publish(slots, {"x", "c", "a", "b"}, &fresh), (std::vector<uint8_t>{3, 2, 0, 1}));
  EXPECT_EQ(fresh, (std::vector<uint8_t>{3}));
}

TEST(RuleCounterSlotsTest, AFreedSlotCoolsForOnePublish) {
  RuleCounterSlots slots;
  Publish(slots, {"a", "b"});
  // b's slot 1 is in the half in force until this flip: not for c.
  EXPECT_EQ(Publish(slots, {"a", "c"}), (std::vector<uint8_t>{0, 2}));
  std::vector<uint8_t> fresh;
  EXPECT_EQ(Publish(slots, {"a", "d"}, &fresh), (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(fresh, (std::vector<uint8_t>{1}));
}

TEST(RuleCounterSlotsTest, AnUncommittedPlanChangesNothing) {
  RuleCounterSlots slots;
  Publish(slots, {"a", "b"});
  (void)slots.Assign({"b", "z"});  // a Publish that failed
  EXPECT_EQ(Publish(slots, {"b", "a"}), (std::vector<uint8_t>{1, 0}));
}

TEST(RuleCounterSlotsTest, RepeatedNamesAndAFullTable) {
  RuleCounterSlots slots;
  EXPECT_EQ(Publish(slots, {"a", "a"}), (std::vector<uint8_t>{0, 1}));
  // NLB_MAX_RULES new names after NLB_MAX_RULES others: every slot distinct, none of the old.
  std::vector<std::string> old_names, new_names;
  for (int i = 0; i < NLB_MAX_RULES; ++i) old_names.push_back("old" + std::to_string(i));
  for (int i = 0; i < NLB_MAX_RULES; ++i) new_names.push_back("new" + std::to_string(i));
  const std::vector<uint8_t> before = Publish(slots, old_names);
  const std::vector<uint8_t> after = Publish(slots, new_names);
  std::set<uint8_t> all(before.begin(), before.end());
  all.insert(after.begin(), after.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(NLB_RULE_COUNTER_SLOTS));
}

}  // namespace
}  // namespace nlb::agent
