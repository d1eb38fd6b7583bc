// PlanReload: which changes a reload applies, which it refuses, and what it tells the agent to
// do (numbering, renumbered rules), one named case per row.
#include "agent/reload_planner.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tests/support/port_rules.h"

namespace nlb::agent {
namespace {

NodeConfig Base() {
  NodeConfig c;
  c.cluster.name = "web";
  c.cluster.vips = {*IpAddress::Parse("198.18.0.100")};
  c.cluster.port_rules = {test::MakeRule(std::nullopt, 80, 80, Protocol::kTcp,
                                         FilteringMode::kMultipleHost, Affinity::kNone, "http"),
                          test::MakeRule(std::nullopt, 443, 443, Protocol::kTcp,
                                         FilteringMode::kMultipleHost, Affinity::kNone, "https")};
  c.host.id = 1;
  c.host.interface = "eth0";
  c.host.dedicated_address = *IpAddress::Parse("198.18.1.1");
  c.host.rule_params.resize(2);
  return c;
}

struct Case {
  const char* name;
  std::function<void(NodeConfig&)> change;
  std::string new_key = "key";
  // Refused with this text in the message; "" = accepted.
  std::string refused;
  bool rules_changed = false;
  bool numbering_changed = false;
  std::string renumbered;
};

Case Accepted(const char* name, std::function<void(NodeConfig&)> change, bool rules_changed = false,
              bool numbering_changed = false, std::string renumbered = "") {
  return Case{
      name, std::move(change), "key", "", rules_changed, numbering_changed, std::move(renumbered)};
}

Case Refused(const char* name, std::function<void(NodeConfig&)> change, std::string refused,
             std::string key = "key") {
  return Case{name, std::move(change), std::move(key), std::move(refused), false, false, ""};
}

TEST(PlanReloadTest, Table) {
  const Case cases[] = {
      Accepted("nothing changed", [](NodeConfig&) {}),
      Accepted("a weight changes", [](NodeConfig& c) { c.host.rule_params[0].weight = 7; }),
      Refused(
          "cluster name", [](NodeConfig& c) { c.cluster.name = "mail"; }, "cluster.name"),
      Refused(
          "a VIP added",
          [](NodeConfig& c) { c.cluster.vips.push_back(*IpAddress::Parse("198.18.0.101")); },
          "cluster.vips"),
      Refused(
          "MAC mode", [](NodeConfig& c) { c.cluster.mac_mode = MacMode::kUnicast; },
          "cluster.mac_mode"),
      Refused(
          "heartbeat period", [](NodeConfig& c) { c.cluster.heartbeat.period_ms = 100; },
          "cluster.heartbeat"),
      Refused(
          "control port", [](NodeConfig& c) { c.cluster.control.port = 9; }, "cluster.control"),
      Refused(
          "tracking capacity", [](NodeConfig& c) { c.cluster.connection_tracking.capacity = 2048; },
          "cluster.connection_tracking"),
      Refused(
          "host id", [](NodeConfig& c) { c.host.id = 2; }, "host.id"),
      Refused(
          "interface", [](NodeConfig& c) { c.host.interface = "eth1"; }, "host.interface"),
      Refused(
          "data path", [](NodeConfig& c) { c.host.data_path = DataPathMode::kBpf; },
          "host.data_path"),
      Refused(
          "dedicated address",
          [](NodeConfig& c) { c.host.dedicated_address = *IpAddress::Parse("198.18.1.9"); },
          "host.dedicated_address"),
      Refused(
          "the key changed", [](NodeConfig&) {}, "cluster key changed", "other key"),
      Refused(
          "http listener port", [](NodeConfig& c) { c.host.http.port = 9181; }, "host.http"),
      Refused(
          "http listener off", [](NodeConfig& c) { c.host.http.enabled = false; }, "host.http"),
      Accepted(
          "an affinity changes",
          [](NodeConfig& c) { c.cluster.port_rules[0].affinity = Affinity::kSingle; }, true),
      Accepted(
          "a rule appended",
          [](NodeConfig& c) {
            c.cluster.port_rules.push_back(test::MakeRule(std::nullopt, 8080, 8080, Protocol::kTcp,
                                                          FilteringMode::kMultipleHost,
                                                          Affinity::kNone, "alt"));
            c.host.rule_params.resize(3);
          },
          true, true),
      Accepted(
          "a rule inserted first renumbers the others",
          [](NodeConfig& c) {
            c.cluster.port_rules.insert(
                c.cluster.port_rules.begin(),
                test::MakeRule(std::nullopt, 22, 22, Protocol::kTcp, FilteringMode::kMultipleHost,
                               Affinity::kNone, "ssh"));
            c.host.rule_params.resize(3);
          },
          true, true, "http 0 -> 1, https 1 -> 2"),
      Accepted(
          "a rule removed",
          [](NodeConfig& c) {
            c.cluster.port_rules.erase(c.cluster.port_rules.begin());
            c.host.rule_params.resize(1);
          },
          true, true, "https 1 -> 0"),
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    NodeConfig next = Base();
    c.change(next);
    auto plan = PlanReload(Base(), "key", next, c.new_key);
    if (!c.refused.empty()) {
      ASSERT_FALSE(plan.ok());
      EXPECT_NE(plan.status().message().find(c.refused), std::string::npos)
          << plan.status().message();
      EXPECT_NE(plan.status().message().find("reload refused"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_EQ(plan->rules_changed, c.rules_changed);
    EXPECT_EQ(plan->numbering_changed, c.numbering_changed);
    EXPECT_EQ(DescribeRenumbering(plan->renumbered), c.renumbered);
    EXPECT_EQ(plan->next.cluster.port_rules, next.cluster.port_rules);
  }
}

}  // namespace
}  // namespace nlb::agent
