// RuleSelector: the RULE argument of `enable`, `disable` and `drain` (docs/control.md):
//   all              every port rule
//   PORT             the rules covering PORT on any VIP, e.g. 80
//   VIP:PORT         the rule covering PORT on that VIP, e.g. 198.18.0.100:80 or [2001:2::1]:443
//   NAME             the rule of that YAML name, e.g. http: a word of a rule name's
//                    characters with a letter in it that is not one of the forms above and
//                    does not end in :DIGITS (that is a VIP:PORT)
// Parsed the same way by nlbctl (to refuse a typo before connecting) and by the agent.
// Pure; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/status.h"

namespace nlb {

struct RuleSelector {
  std::optional<IpAddress> vip;     // nullopt: any VIP
  std::optional<uint16_t> port;     // nullopt: "all" or a name (and then vip is nullopt too)
  std::optional<std::string> name;  // a rule's YAML name

  bool all() const { return !port.has_value() && !name.has_value(); }
  // The canonical text: "all", "80", "198.18.0.100:80", "[2001:2::1]:443", "http".
  std::string ToString() const;
  friend bool operator==(const RuleSelector&, const RuleSelector&) = default;
};

// kInvalidArgument with a message quoting text and showing the accepted forms.
Result<RuleSelector> ParseRuleSelector(std::string_view text);

// The refusal of a NAME no rule has: "no port rule is named 'htp' (did you mean 'http'?; rules:
// http, dns)". names: the running rules' names.
std::string UnknownRuleNameMessage(std::string_view name, std::span<const std::string> names);

}  // namespace nlb
