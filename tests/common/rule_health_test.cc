// Health verdicts travel in the heartbeats (version 2, extension 1): every host sees which host
// drains which rule because of its check, and each failing host decides drain or fail open from
// what the others announce. Simulated cluster (tests/support/sim_cluster.h), simulated time; the
// agent's glue is played by Decide below, as agent_health.cc does it at every probe result.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "common/convergence.h"
#include "common/health_check.h"
#include "tests/support/sim_cluster.h"

namespace nlb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t kWeb = 0;  // SimHostConfig's multiple-host rule; "mail" and "telnet" unchecked

class RuleHealthTest : public testing::Test {
 protected:
  void SetUp() override {
    for (uint16_t id = 1; id <= 3; ++id) cluster_.Start(id);
    ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, seconds(10)).has_value());
    for (uint16_t id = 1; id <= 3; ++id) Decide(id);
    cluster_.Run(seconds(3));
  }

  // What the agent does at a probe result of host `id`: judge against the others' announcements,
  // announce the verdict, and drain (weight 0) or keep the configured weight.
  void Decide(uint16_t id) {
    Convergence& host = cluster_.host(id - 1);
    const ConvergenceReport report = host.Report();
    const bool others = HealthyMemberServes(report.members, kWeb, id);
    const RuleHealthVerdict verdict = DecideRuleHealth(status_[id], others);
    host.SetRuleHealth({AnnouncedHealth(verdict), RuleHealth::kUnchecked, RuleHealth::kUnchecked},
                       cluster_.now());
    std::vector<HostRuleParams> params = test::SimHostConfig(id, 0).rule_params;
    if (verdict == RuleHealthVerdict::kDrain) params[kWeb].weight = 0;
    host.SetRuleParams(params, cluster_.now());
  }

  // Every host decides once a period (their probe interval) for `periods` periods.
  void RunChecks(int periods) {
    for (int p = 0; p < periods; ++p) {
      for (uint16_t id = 1; id <= 3; ++id) {
        Decide(id);
        cluster_.Run(milliseconds(300));
      }
      cluster_.Run(milliseconds(100));
    }
    ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, seconds(10)).has_value());
  }

  // What host `viewer` shows for member `member`'s rule web.
  RuleHealth Seen(uint16_t viewer, uint16_t member) const {
    for (const MemberReport& m : cluster_.host(viewer - 1).Report().members) {
      if (m.host_id == member) {
        return m.rule_health.empty() ? RuleHealth::kUnchecked : m.rule_health[kWeb];
      }
    }
    return RuleHealth::kUnchecked;
  }

  std::set<uint16_t> WebOwners(uint16_t viewer) const {
    const ConvergedMap* map = cluster_.host(viewer - 1).CurrentMap();
    return {map->rules[kWeb].bucket_owner.begin(), map->rules[kWeb].bucket_owner.end()};
  }

  test::SimCluster cluster_{{.loss = 0.0, .seed = 31}};
  HealthStatus status_[4] = {HealthStatus::kHealthy, HealthStatus::kHealthy, HealthStatus::kHealthy,
                             HealthStatus::kHealthy};
};

TEST_F(RuleHealthTest, EveryHostSeesWhoDrainsWhichRule) {
  for (uint16_t viewer = 1; viewer <= 3; ++viewer) {
    for (uint16_t member = 1; member <= 3; ++member) {
      EXPECT_EQ(Seen(viewer, member), RuleHealth::kServe) << viewer << " sees " << member;
    }
  }
  status_[2] = HealthStatus::kFailing;
  RunChecks(2);
  for (uint16_t viewer = 1; viewer <= 3; ++viewer) {
    EXPECT_EQ(Seen(viewer, 2), RuleHealth::kDrain) << "host " << viewer;
    EXPECT_EQ(Seen(viewer, 1), RuleHealth::kServe) << "host " << viewer;
    EXPECT_EQ(WebOwners(viewer), (std::set<uint16_t>{1, 3})) << "host " << viewer;
  }
  status_[2] = HealthStatus::kHealthy;
  RunChecks(2);
  EXPECT_EQ(Seen(3, 2), RuleHealth::kServe);
  EXPECT_EQ(WebOwners(3), (std::set<uint16_t>{1, 2, 3}));
}

TEST_F(RuleHealthTest, EveryHostFailingKeepsServingAtFullWeight) {
  status_[1] = status_[2] = status_[3] = HealthStatus::kFailing;
  RunChecks(3);
  for (uint16_t viewer = 1; viewer <= 3; ++viewer) {
    for (uint16_t member = 1; member <= 3; ++member) {
      EXPECT_EQ(Seen(viewer, member), RuleHealth::kFailOpen) << viewer << " sees " << member;
    }
    // Nobody drained for good: the rule is shared by all, as before the failure.
    EXPECT_EQ(WebOwners(viewer), (std::set<uint16_t>{1, 2, 3})) << "host " << viewer;
  }
  // One host recovers: the failing ones drain to it, whatever its weight.
  status_[3] = HealthStatus::kHealthy;
  RunChecks(2);
  EXPECT_EQ(Seen(1, 3), RuleHealth::kServe);
  EXPECT_EQ(Seen(3, 1), RuleHealth::kDrain);
  EXPECT_EQ(Seen(3, 2), RuleHealth::kDrain);
  EXPECT_EQ(WebOwners(1), (std::set<uint16_t>{3}));
}

// A healthy host configured with weight 1 is a healthy host: version 1 took weight 1 for "failing
// open" and kept the failing hosts serving beside it.
TEST_F(RuleHealthTest, HealthyHostOfWeightOneTakesOverFromFailingOnes) {
  std::vector<HostRuleParams> light = test::SimHostConfig(3, 0).rule_params;
  light[kWeb].weight = 1;
  cluster_.host(2).SetRuleParams(light, cluster_.now());
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, seconds(10)).has_value());
  status_[1] = status_[2] = HealthStatus::kFailing;
  for (int p = 0; p < 3; ++p) {
    Decide(1);
    Decide(2);
    cluster_.Run(seconds(1));
  }
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, seconds(10)).has_value());
  EXPECT_EQ(Seen(3, 1), RuleHealth::kDrain);
  EXPECT_EQ(Seen(3, 2), RuleHealth::kDrain);
  EXPECT_EQ(WebOwners(1), (std::set<uint16_t>{3}));
}

}  // namespace
}  // namespace nlb
