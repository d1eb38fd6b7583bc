// OperatorState: the state file's text form round-trips, every malformed input is refused with
// the line that is wrong (never a crash), and rule states follow rules by name.
#include "common/operator_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nlb {
namespace {

TEST(OperatorStateTest, RoundTrips) {
  for (HostRole role :
       {HostRole::kActive, HostRole::kDraining, HostRole::kStopped, HostRole::kSuspended}) {
    OperatorState s;
    s.role = role;
    s.rules = {{"web", RuleState::kDraining}, {"api-v2", RuleState::kDisabled}};
    const std::string text = EncodeOperatorState(s);
    auto back = DecodeOperatorState(text);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back.value(), s);
  }
  EXPECT_EQ(EncodeOperatorState(OperatorState{}), "nlb-operator-state 1\nhost active\n");
}

TEST(OperatorStateTest, RefusesMalformedInput) {
  struct Case {
    std::string name;
    std::string text;
    std::string error;  // a part of the message
  };
  const std::vector<Case> cases = {
      {"empty", "", "empty or truncated"},
      {"comma", ",", "empty or truncated"},
      {"no_final_newline", "nlb-operator-state 1\nhost active", "truncated"},
      {"wrong_magic", "nlb-operator-state 2\nhost active\n", "line 1"},
      {"garbage", "\x01\x02\xff\n", "line 1"},
      {"nul", std::string("nlb-operator-state 1\nhost act\0ive\n", 34), "NUL"},
      {"no_host", "nlb-operator-state 1\n", "no host line"},
      {"unknown_role", "nlb-operator-state 1\nhost asleep\n", "line 2: unknown host state"},
      {"two_hosts", "nlb-operator-state 1\nhost active\nhost stopped\n", "line 3: a second"},
      {"unknown_rule_state", "nlb-operator-state 1\nhost active\nrule web off\n", "line 3"},
      {"enabled_is_not_listed", "nlb-operator-state 1\nhost active\nrule web enabled\n", "line 3"},
      {"duplicate_rule",
       "nlb-operator-state 1\nhost active\nrule web disabled\nrule web draining\n", "twice"},
      {"double_space", "nlb-operator-state 1\nhost  active\n", "line 2"},
      {"empty_line", "nlb-operator-state 1\n\nhost active\n", "line 2"},
      {"crlf", "nlb-operator-state 1\r\nhost active\r\n", "line 1"},
      {"too_long", "nlb-operator-state 1\nhost active\n" + std::string(70000, '#') + "\n",
       "more than"},
  };
  for (const Case& c : cases) {
    auto r = DecodeOperatorState(c.text);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), ErrorCode::kMalformed) << c.name;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos)
        << c.name << ": " << r.status().message();
  }
}

TEST(OperatorStateTest, EveryTruncationIsRefusedOrValid) {
  OperatorState s;
  s.role = HostRole::kDraining;
  s.rules = {{"web", RuleState::kDraining}, {"mail", RuleState::kDisabled}};
  const std::string text = EncodeOperatorState(s);
  for (size_t n = 0; n < text.size(); ++n) {
    auto r = DecodeOperatorState(text.substr(0, n));
    if (r.ok()) {
      EXPECT_EQ(text[n - 1], '\n') << "a prefix of " << n << " bytes decoded";
    }
  }
}

TEST(OperatorStateTest, RuleStatesFollowNames) {
  OperatorState s;
  s.rules = {{"web", RuleState::kDraining}, {"gone", RuleState::kDisabled}};
  const std::vector<std::string> names = {"vip101", "web"};  // web renumbered, gone removed
  std::vector<std::string> unknown;
  const std::vector<RuleState> states = RuleStatesByName(s, names, &unknown);
  EXPECT_EQ(states, (std::vector<RuleState>{RuleState::kEnabled, RuleState::kDraining}));
  EXPECT_EQ(unknown, std::vector<std::string>{"gone"});
  const OperatorState saved = MakeOperatorState(HostRole::kStopped, names, states);
  EXPECT_EQ(saved.role, HostRole::kStopped);
  EXPECT_EQ(saved.rules,
            (std::vector<std::pair<std::string, RuleState>>{{"web", RuleState::kDraining}}));
}

}  // namespace
}  // namespace nlb
