// When a command is in force (CommandInForce) and the replies that wait for it (InForceWaiters,
// TakeControlWait), on simulated time: docs/control.md, "When a command returns".
#include "common/command_in_force.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/control_wait.h"

namespace nlb {
namespace {

using std::chrono::milliseconds;
using TimePoint = InForceWaiters::TimePoint;

ConvergedMap MapOf(uint64_t generation, std::vector<ViewMember> members) {
  ConvergedMap map;
  map.generation = generation;
  map.members = std::move(members);
  return map;
}

ViewMember Member(uint16_t id, HostRole role, std::vector<uint32_t> weights) {
  ViewMember m;
  m.host_id = id;
  m.role = role;
  for (uint32_t w : weights) m.rule_params.push_back({w, 1});
  return m;
}

// Host 3 announces `drained` (active; web at weight 0): by the old map it is not in force yet,
// by the drained map (applied) it is.
const std::vector<HostRuleParams> kDrained = {{0, 1}, {50, 1}};
const std::vector<HostRuleParams> kEnabled = {{50, 1}, {50, 1}};
const ConvergedMap kOldMap = MapOf(7, {Member(3, HostRole::kActive, {50, 50})});
const ConvergedMap kDrainedMap = MapOf(8, {Member(3, HostRole::kActive, {0, 50})});
const InForceTarget kDrainTarget{HostRole::kActive, kDrained};

InForceState HostState(bool in_force, const std::vector<HostRuleParams>& announced = kDrained) {
  InForceState s;
  s.map = in_force ? &kDrainedMap : &kOldMap;
  s.applied_generation = s.map->generation;
  s.host_id = 3;
  s.role = HostRole::kActive;
  s.rule_params = announced;
  return s;
}

TEST(CommandInForceTest, Table) {
  const std::vector<HostRuleParams> drained = {{0, 1}, {50, 1}};
  const std::vector<HostRuleParams> enabled = {{50, 1}, {50, 1}};
  const ConvergedMap old_map =
      MapOf(7, {Member(1, HostRole::kActive, {50, 50}), Member(2, HostRole::kActive, {50, 50})});
  const ConvergedMap drained_map =
      MapOf(8, {Member(1, HostRole::kActive, {0, 50}), Member(2, HostRole::kActive, {50, 50})});
  const ConvergedMap draining_map =
      MapOf(9, {Member(1, HostRole::kDraining, {50, 50}), Member(2, HostRole::kActive, {50, 50})});
  const ConvergedMap without_1 = MapOf(10, {Member(2, HostRole::kActive, {50, 50})});
  struct Case {
    const char* name;
    const ConvergedMap* map;
    uint64_t applied;
    bool switching;
    HostRole role;
    std::vector<HostRuleParams> params;
    bool in_force;
  };
  const std::vector<Case> cases = {
      {"no map yet", nullptr, 0, false, HostRole::kActive, drained, false},
      {"drain announced, old map agreed", &old_map, 7, false, HostRole::kActive, drained, false},
      {"drain agreed, data path still on the old map", &drained_map, 7, false, HostRole::kActive,
       drained, false},
      {"drain agreed, kernel cut outstanding", &drained_map, 8, true, HostRole::kActive, drained,
       false},
      {"drain agreed and applied", &drained_map, 8, false, HostRole::kActive, drained, true},
      {"data path ahead of the map (later publication)", &drained_map, 9, false, HostRole::kActive,
       drained, true},
      {"enable announced, drained map agreed", &drained_map, 8, false, HostRole::kActive, enabled,
       false},
      {"enable agreed and applied", &old_map, 7, false, HostRole::kActive, enabled, true},
      {"drainstop announced, active map", &old_map, 7, false, HostRole::kDraining, enabled, false},
      {"drainstop agreed", &draining_map, 9, false, HostRole::kDraining, enabled, true},
      {"stop announced, draining map", &draining_map, 9, false, HostRole::kStopped, enabled, false},
      {"stop: the map leaves the host out", &without_1, 10, false, HostRole::kStopped, enabled,
       true},
      {"start: the map leaves the host out", &without_1, 10, false, HostRole::kActive, enabled,
       false},
  };
  for (const Case& c : cases) {
    InForceState s;
    s.map = c.map;
    s.applied_generation = c.applied;
    s.switching = c.switching;
    s.host_id = 1;
    s.role = c.role;
    s.rule_params = c.params;
    EXPECT_EQ(CommandInForce(s), c.in_force) << c.name;
  }
}

// Simulated time: each row adds waiters, then the loop checks at the given times with the given
// in-force state; every reply must come at the right check with the right shape.
TEST(InForceWaitersTest, RepliesWhenInForceOrAtDeadline) {
  struct Check {
    int at_ms;
    bool in_force;
  };
  struct Case {
    const char* name;
    int wait_ms;
    std::vector<Check> checks;
    int replied_at_ms;  // -1: no reply
    bool ok;
  };
  const std::vector<Case> cases = {
      {"in force at the first check", 5000, {{0, true}}, 0, true},
      {"in force after a convergence", 5000, {{0, false}, {300, false}, {900, true}}, 900, true},
      {"never in force: refused at the deadline",
       1000,
       {{0, false}, {999, false}, {1000, false}, {2000, true}},
       1000,
       false},
      {"in force exactly at the deadline wins", 1000, {{1000, true}}, 1000, true},
      {"no check reached the deadline yet", 1000, {{0, false}, {500, false}}, -1, false},
  };
  for (const Case& c : cases) {
    InForceWaiters waiters;
    const TimePoint t0{};
    int replied_at = -1;
    std::string reply;
    waiters.Add(3, "drain web", R"({"ok":true,"host":3,"result":"rule web draining by operator"})",
                kDrainTarget, t0, t0 + milliseconds(c.wait_ms), [&](std::string r) {
                  EXPECT_EQ(replied_at, -1) << c.name << ": answered twice";
                  reply = std::move(r);
                });
    EXPECT_EQ(waiters.NextDeadline(), t0 + milliseconds(c.wait_ms)) << c.name;
    for (const Check& k : c.checks) {
      waiters.Check(HostState(k.in_force), t0 + milliseconds(k.at_ms));
      if (replied_at == -1 && !reply.empty()) replied_at = k.at_ms;
    }
    EXPECT_EQ(replied_at, c.replied_at_ms) << c.name;
    if (c.replied_at_ms < 0) {
      EXPECT_EQ(waiters.size(), 1u) << c.name;
      continue;
    }
    EXPECT_EQ(waiters.size(), 0u) << c.name;
    EXPECT_FALSE(waiters.NextDeadline().has_value()) << c.name;
    EXPECT_NE(reply.find(c.ok ? "\"ok\":true" : "\"code\":\"not_in_force\""), std::string::npos)
        << c.name << ": " << reply;
    EXPECT_NE(reply.find(c.ok ? "rule web draining by operator\",\"in_force_ms\":"
                              : "'drain web' is applied on host 3"),
              std::string::npos)
        << c.name << ": " << reply;
    EXPECT_NE(reply.find("\"host\":3"), std::string::npos) << c.name;
  }
}

TEST(InForceWaitersTest, EachWaiterHasItsOwnDeadline) {
  InForceWaiters waiters;
  const TimePoint t0{};
  std::vector<std::string> order;
  waiters.Add(3, "a", "{}", kDrainTarget, t0, t0 + milliseconds(2000),
              [&](std::string) { order.push_back("a"); });
  waiters.Add(3, "b", "{}", kDrainTarget, t0, t0 + milliseconds(500),
              [&](std::string) { order.push_back("b"); });
  EXPECT_EQ(waiters.NextDeadline(), t0 + milliseconds(500));
  waiters.Check(HostState(false), t0 + milliseconds(600));
  EXPECT_EQ(order, std::vector<std::string>{"b"});
  EXPECT_EQ(waiters.NextDeadline(), t0 + milliseconds(2000));
  waiters.Check(HostState(true), t0 + milliseconds(700));
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a"}));
}

// `drain web` and then `enable web` before the cluster converged on the drain: the drain is
// never in force as such, and must not be told it is when the enable is.
TEST(InForceWaitersTest, ASupersededCommandIsNotInForce) {
  InForceWaiters waiters;
  const TimePoint t0{};
  std::string drain_reply;
  std::string enable_reply;
  waiters.Add(3, "drain web", R"({"ok":true})", kDrainTarget, t0, t0 + milliseconds(5000),
              [&](std::string r) { drain_reply = std::move(r); });
  waiters.Check(HostState(false), t0 + milliseconds(100));
  EXPECT_TRUE(drain_reply.empty());
  // The enable: the host announces kEnabled from now on, and the old map already holds that.
  waiters.Add(3, "enable web", R"({"ok":true})", InForceTarget{HostRole::kActive, kEnabled}, t0,
              t0 + milliseconds(5000), [&](std::string r) { enable_reply = std::move(r); });
  InForceState enabled = HostState(false, kEnabled);
  ASSERT_TRUE(CommandInForce(enabled));
  waiters.Check(enabled, t0 + milliseconds(200));
  EXPECT_NE(drain_reply.find("\"code\":\"not_in_force\""), std::string::npos) << drain_reply;
  EXPECT_NE(drain_reply.find("changed again"), std::string::npos) << drain_reply;
  EXPECT_NE(enable_reply.find("\"ok\":true"), std::string::npos) << enable_reply;
  EXPECT_EQ(waiters.size(), 0u);
}

TEST(ControlWaitTest, TakesTheWaitWord) {
  struct Case {
    std::vector<std::string> words;
    std::vector<std::string> left;
    int wait_ms;             // 0: none
    const char* error_part;  // nullptr: accepted
  };
  const std::vector<Case> cases = {
      {{"drain", "web", "wait=5000"}, {"drain", "web"}, 5000, nullptr},
      {{"drainstop", "wait=1"}, {"drainstop"}, 1, nullptr},
      {{"stop", "wait=600000"}, {"stop"}, 600000, nullptr},
      {{"drain", "web"}, {"drain", "web"}, 0, nullptr},
      {{"query"}, {"query"}, 0, nullptr},
      {{"drain", "web", "wait=0"}, {}, 0, "is not a wait"},
      {{"drain", "web", "wait=600001"}, {}, 0, "is not a wait"},
      {{"drain", "web", "wait=5s"}, {}, 0, "is not a wait"},
      {{"drain", "web", "wait="}, {}, 0, "is not a wait"},
      {{"query", "wait=100"}, {}, 0, "'query' does not wait"},
      {{"reload", "wait=100"}, {}, 0, "'reload' does not wait"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> words = c.words;
    auto wait = TakeControlWait(words);
    if (c.error_part != nullptr) {
      ASSERT_FALSE(wait.ok()) << c.words.back();
      EXPECT_NE(wait.status().message().find(c.error_part), std::string::npos)
          << wait.status().message();
      continue;
    }
    ASSERT_TRUE(wait.ok()) << wait.status().message();
    EXPECT_EQ(words, c.left);
    EXPECT_EQ(wait.value().value_or(milliseconds(0)), milliseconds(c.wait_ms));
  }
}

}  // namespace
}  // namespace nlb
