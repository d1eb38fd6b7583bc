// HealthState follows HAProxy's rise/fall semantics over sequences of probe results; HTTP replies
// are classified by status and body; a failing host drains only when another member serves.
#include "common/health_check.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/cluster_view.h"
#include "common/convergence.h"
#include "common/heartbeat.h"

namespace nlb {
namespace {

using std::chrono::milliseconds;
constexpr ProbeOutcome P = ProbeOutcome::kPassed;
constexpr ProbeOutcome F = ProbeOutcome::kRefused;
constexpr ProbeOutcome T = ProbeOutcome::kTimeout;

struct SequenceCase {
  const char* description;
  uint32_t rise;
  uint32_t fall;
  std::vector<ProbeOutcome> results;
  const char* statuses;  // after each result: h = healthy, f = failing
  uint64_t transitions;
};

void PrintTo(const SequenceCase& c, std::ostream* os) { *os << c.description; }

const SequenceCase kSequences[] = {
    {"starts healthy and stays so on passes", 2, 3, {P, P, P}, "hhh", 0},
    {"fall failures in a row turn it failing", 2, 3, {F, F, F}, "hhf", 1},
    {"a pass between failures resets the count", 2, 3, {F, F, P, F, F, P}, "hhhhhh", 0},
    {"kinds of failure count together", 2, 3, {F, T, F}, "hhf", 1},
    {"rise passes in a row bring it back", 2, 3, {F, F, F, P, P}, "hhffh", 2},
    {"a failure while rising restarts the rise", 2, 3, {F, F, F, P, F, P, P}, "hhffffh", 2},
    {"fall 1 and rise 1 follow every result", 1, 1, {F, P, F, P}, "fhfh", 4},
    {"failing stays failing on failures", 2, 2, {F, F, F, F, F}, "hffff", 1},
    {"rise 3", 3, 1, {F, P, P, P}, "fffh", 2},
};

class HealthStateTest : public testing::TestWithParam<SequenceCase> {};

TEST_P(HealthStateTest, FollowsRiseAndFall) {
  const SequenceCase& c = GetParam();
  HealthState state(c.rise, c.fall);
  ASSERT_EQ(c.results.size(), std::string(c.statuses).size());
  for (size_t i = 0; i < c.results.size(); ++i) {
    const HealthStatus before = state.status();
    const bool changed = state.Apply(c.results[i], milliseconds(i));
    const HealthStatus expected =
        c.statuses[i] == 'h' ? HealthStatus::kHealthy : HealthStatus::kFailing;
    EXPECT_EQ(state.status(), expected) << c.description << " after result " << i;
    EXPECT_EQ(changed, before != state.status()) << c.description << " after result " << i;
  }
  EXPECT_EQ(state.transitions(), c.transitions);
  EXPECT_EQ(state.probes(), c.results.size());
}

INSTANTIATE_TEST_SUITE_P(Sequences, HealthStateTest, testing::ValuesIn(kSequences));

TEST(HealthState, CountsFailuresByKindAndKeepsTheLastLatency) {
  HealthState state(2, 3);
  (void)state.Apply(ProbeOutcome::kTimeout, milliseconds(1000));
  (void)state.Apply(ProbeOutcome::kTimeout, milliseconds(1000));
  (void)state.Apply(ProbeOutcome::kBadStatus, milliseconds(4));
  EXPECT_EQ(state.failures(ProbeOutcome::kTimeout), 2u);
  EXPECT_EQ(state.failures(ProbeOutcome::kBadStatus), 1u);
  EXPECT_EQ(state.failures(ProbeOutcome::kRefused), 0u);
  EXPECT_EQ(state.last_outcome(), ProbeOutcome::kBadStatus);
  EXPECT_EQ(state.last_latency(), milliseconds(4));
}

struct ReplyCase {
  const char* description;
  const char* reply;
  uint32_t expect_status;
  const char* expect_body;
  ProbeOutcome outcome;
};

void PrintTo(const ReplyCase& c, std::ostream* os) { *os << c.description; }

const ReplyCase kReplies[] = {
    {"200 with any body", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "",
     ProbeOutcome::kPassed},
    {"HTTP/1.0 reply", "HTTP/1.0 200 OK\r\n\r\n", 200, "", ProbeOutcome::kPassed},
    {"no reason phrase", "HTTP/1.1 204\r\n\r\n", 204, "", ProbeOutcome::kPassed},
    {"other status", "HTTP/1.1 503 Service Unavailable\r\n\r\n", 200, "", ProbeOutcome::kBadStatus},
    {"expected non-200 status", "HTTP/1.1 302 Found\r\nLocation: /\r\n\r\n", 302, "",
     ProbeOutcome::kPassed},
    {"body has the substring", "HTTP/1.1 200 OK\r\n\r\nstatus: ready\n", 200, "ready",
     ProbeOutcome::kPassed},
    {"body lacks the substring", "HTTP/1.1 200 OK\r\n\r\nstatus: starting\n", 200, "ready",
     ProbeOutcome::kBodyMismatch},
    {"substring only in a header does not count", "HTTP/1.1 200 OK\r\nX: ready\r\n\r\nno", 200,
     "ready", ProbeOutcome::kBodyMismatch},
    {"status checked before body", "HTTP/1.1 500 Oops\r\n\r\nready", 200, "ready",
     ProbeOutcome::kBadStatus},
    {"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", 200, "", ProbeOutcome::kBadReply},
    {"empty reply", "", 200, "", ProbeOutcome::kBadReply},
    {"headers cut short", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", 200, "",
     ProbeOutcome::kBadReply},
    {"status not a number", "HTTP/1.1 2x0 OK\r\n\r\n", 200, "", ProbeOutcome::kBadReply},
    {"status of four digits", "HTTP/1.1 2000 OK\r\n\r\n", 200, "", ProbeOutcome::kBadReply},
    {"HTTP/2 preface is not HTTP/1.x", "HTTP/2 200\r\n\r\n", 200, "", ProbeOutcome::kBadReply},
};

class HttpReplyTest : public testing::TestWithParam<ReplyCase> {};

TEST_P(HttpReplyTest, Classifies) {
  const ReplyCase& c = GetParam();
  HealthCheckSpec spec;
  spec.kind = HealthCheckKind::kHttp;
  spec.expect_status = c.expect_status;
  spec.expect_body = c.expect_body;
  EXPECT_EQ(ClassifyHttpReply(c.reply, spec), c.outcome) << c.description;
}

INSTANTIATE_TEST_SUITE_P(Replies, HttpReplyTest, testing::ValuesIn(kReplies));

TEST(DecideRuleHealth, DrainsOnlyWhenAnotherMemberServes) {
  EXPECT_EQ(DecideRuleHealth(HealthStatus::kHealthy, true), RuleHealthVerdict::kServe);
  EXPECT_EQ(DecideRuleHealth(HealthStatus::kHealthy, false), RuleHealthVerdict::kServe);
  EXPECT_EQ(DecideRuleHealth(HealthStatus::kFailing, true), RuleHealthVerdict::kDrain);
  EXPECT_EQ(DecideRuleHealth(HealthStatus::kFailing, false), RuleHealthVerdict::kFailOpen);
}

struct ServesCase {
  const char* description;
  uint32_t other_weight;    // host 2's weight for rule 1
  RuleHealth other_health;  // what host 2 announces for rule 1
  HostState other_state;
  bool serves;
};

// Judged by what the other members announce (heartbeat version 2): a healthy host counts
// whatever its weight above 0, a failing one never does, whatever its weight.
TEST(HealthyMemberServes, CountsOtherActiveMembersWhoseCheckPasses) {
  const ServesCase cases[] = {
      {"another healthy at 50", 50, RuleHealth::kServe, HostState::kConverged, true},
      {"another healthy at 1", 1, RuleHealth::kServe, HostState::kConverged, true},
      {"another without check", 50, RuleHealth::kUnchecked, HostState::kConverging, true},
      {"another drained by the operator", 0, RuleHealth::kServe, HostState::kConverged, false},
      {"another draining by its check", 0, RuleHealth::kDrain, HostState::kConverged, false},
      {"another failing open at 50", 50, RuleHealth::kFailOpen, HostState::kConverged, false},
      {"another stopped", 50, RuleHealth::kServe, HostState::kStopped, false},
      {"another draining host", 50, RuleHealth::kServe, HostState::kDraining, false},
  };
  for (const ServesCase& c : cases) {
    MemberReport self;
    self.host_id = 1;
    self.state = HostState::kConverged;
    self.rule_params = {HostRuleParams{50, 1}, HostRuleParams{50, 1}};
    self.rule_health = {RuleHealth::kServe, RuleHealth::kServe};  // its own never counts
    MemberReport other;
    other.host_id = 2;
    other.state = c.other_state;
    other.rule_params = {HostRuleParams{0, 1}, HostRuleParams{c.other_weight, 1}};
    other.rule_health = {RuleHealth::kServe, c.other_health};
    const std::vector<MemberReport> members = {self, other};
    EXPECT_EQ(HealthyMemberServes(members, 1, 1), c.serves) << c.description;
    EXPECT_FALSE(HealthyMemberServes(members, 0, 1)) << c.description << ": rule 0 has weight 0";
    EXPECT_FALSE(HealthyMemberServes(members, 7, 1)) << c.description << ": no such rule";
    EXPECT_FALSE(HealthyMemberServes(std::vector<MemberReport>{self}, 1, 1)) << "alone";
  }
  // A member that announces no health at all (no rule checked) serves by its weight.
  MemberReport quiet;
  quiet.host_id = 3;
  quiet.state = HostState::kConverged;
  quiet.rule_params = {HostRuleParams{0, 1}, HostRuleParams{10, 1}};
  EXPECT_TRUE(HealthyMemberServes(std::vector<MemberReport>{quiet}, 1, 1));
}

TEST(AnnouncedHealth, EveryVerdictHasItsWireValue) {
  EXPECT_EQ(AnnouncedHealth(RuleHealthVerdict::kServe), RuleHealth::kServe);
  EXPECT_EQ(AnnouncedHealth(RuleHealthVerdict::kDrain), RuleHealth::kDrain);
  EXPECT_EQ(AnnouncedHealth(RuleHealthVerdict::kFailOpen), RuleHealth::kFailOpen);
  EXPECT_EQ(RuleHealthName(RuleHealth::kFailOpen),
            RuleHealthVerdictName(RuleHealthVerdict::kFailOpen));
  EXPECT_EQ(RuleHealthName(RuleHealth::kDrain), RuleHealthVerdictName(RuleHealthVerdict::kDrain));
}

TEST(HealthCheckNames, EveryOutcomeHasAName) {
  for (size_t i = 0; i < static_cast<size_t>(ProbeOutcome::kCount); ++i) {
    EXPECT_NE(ProbeOutcomeName(static_cast<ProbeOutcome>(i)), "unknown") << i;
  }
}

}  // namespace
}  // namespace nlb
