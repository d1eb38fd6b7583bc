// ParseRuleSelector: the three RULE forms are read exactly; everything else is refused with the
// forms spelled out.
#include "common/control_rule.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nlb {
namespace {

TEST(ControlRuleTest, AcceptsEachFormAndPrintsItBack) {
  struct Case {
    std::string text;
    std::optional<std::string> vip;
    std::optional<uint16_t> port;
  };
  const std::vector<Case> cases = {
      {"all", std::nullopt, std::nullopt},
      {"80", std::nullopt, 80},
      {"0", std::nullopt, 0},
      {"65535", std::nullopt, 65535},
      {"198.18.0.100:80", "198.18.0.100", 80},
      {"[2001:2::1]:443", "2001:2::1", 443},
  };
  for (const Case& c : cases) {
    const Result<RuleSelector> rule = ParseRuleSelector(c.text);
    ASSERT_TRUE(rule.ok()) << c.text << ": " << rule.status().message();
    EXPECT_EQ(rule->port, c.port) << c.text;
    EXPECT_EQ(rule->all(), !c.port.has_value()) << c.text;
    if (c.vip) {
      ASSERT_TRUE(rule->vip.has_value()) << c.text;
      EXPECT_EQ(rule->vip->ToString(), *c.vip) << c.text;
    } else {
      EXPECT_FALSE(rule->vip.has_value()) << c.text;
    }
    EXPECT_EQ(rule->ToString(), c.text);
  }
}

TEST(ControlRuleTest, RefusesWithTheReason) {
  struct Case {
    std::string text;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {"+80", "'+80' is not a port"},
      {"65536", "'65536' is not a port"},
      {"80-90", "'80-90' is not a port"},
      {"198.18.0.100:", "'' is not a port"},
      {"198.18.0.300:80", "not an IPv4 address"},
      {"web:80", "not an IPv4 address"},
      {"2001:2::1:443", "[VIP]:PORT"},
      {"[2001:2::1]443", "[VIP]:PORT"},
      {"[2001:2::1]", "[VIP]:PORT"},
      {"[198.18.0.1]:80", "not an IPv6 address"},
      {std::string("198.18.0.100\0garbage:80", 23), "'198.18.0.100\\0...': holds a NUL"},
      {std::string("80\0", 3), "holds a NUL character"},
      {std::string("[2001:2::1\0]:80", 16), "holds a NUL character"},
  };
  for (const Case& c : cases) {
    const Result<RuleSelector> rule = ParseRuleSelector(c.text);
    ASSERT_FALSE(rule.ok()) << c.text;
    EXPECT_EQ(rule.status().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_NE(rule.status().message().find(c.message_part), std::string::npos)
        << c.text << ": " << rule.status().message();
    EXPECT_NE(rule.status().message().find("use all, PORT, VIP:PORT"), std::string::npos);
  }
}

TEST(ControlRuleTest, NamesAreTakenWhereNoOtherFormFits) {
  struct Case {
    std::string text;
    std::optional<std::string> name;  // nullopt: refused
  };
  const std::vector<Case> cases = {
      {"http", "http"},
      {"web-80", "web-80"},
      {"ALL", "ALL"},  // not "all": the agent says which names it has
      {"80x", "80x"},
      {"[2001:2::100]:80-80/tcp", "[2001:2::100]:80-80/tcp"},  // a derived name
      {"80-90", std::nullopt},                                 // no letter: a bad PORT
      {"web:80", std::nullopt},                                // ends in :DIGITS: a VIP:PORT
      {"ht tp", std::nullopt},                                 // not a name's characters
      {std::string(65, 'a'), std::nullopt},                    // too long for a name
  };
  for (const Case& c : cases) {
    const Result<RuleSelector> rule = ParseRuleSelector(c.text);
    ASSERT_EQ(rule.ok(), c.name.has_value()) << c.text;
    if (!rule.ok()) continue;
    EXPECT_EQ(rule->name, c.name);
    EXPECT_FALSE(rule->all());
    EXPECT_EQ(rule->ToString(), c.text);
  }
}

TEST(ControlRuleTest, UnknownNameSuggestsTheClosest) {
  const std::vector<std::string> names = {"http", "dns", "tls-443"};
  EXPECT_EQ(UnknownRuleNameMessage("htp", names),
            "no port rule is named 'htp' (did you mean 'http'?; rules: http, dns, tls-443)");
  EXPECT_EQ(UnknownRuleNameMessage("tls443", names),
            "no port rule is named 'tls443' (did you mean 'tls-443'?; rules: http, dns, tls-443)");
  EXPECT_EQ(UnknownRuleNameMessage("imaps", names),
            "no port rule is named 'imaps' (rules: http, dns, tls-443)");
  EXPECT_EQ(UnknownRuleNameMessage("x", {}), "no port rule is named 'x' (rules: none)");
}

}  // namespace
}  // namespace nlb
