// RuleSelector: the RULE argument of `enable`, `disable` and `drain` (docs/control.md):
//   all              every port rule
//   PORT             the rules covering PORT on any VIP, e.g. 80
//   VIP:PORT         the rule covering PORT on that VIP, e.g. 198.18.0.100:80 or [2001:2::1]:443
// Parsed the same way by nlbctl (to refuse a typo before connecting) and by the agent.
// Pure; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/status.h"

namespace nlb {

struct RuleSelector {
  std::optional<IpAddress> vip;  // nullopt: any VIP
  std::optional<uint16_t> port;  // nullopt: "all" (and then vip is nullopt too)

  bool all() const { return !port.has_value(); }
  // The canonical text: "all", "80", "198.18.0.100:80", "[2001:2::1]:443".
  std::string ToString() const;
  friend bool operator==(const RuleSelector&, const RuleSelector&) = default;
};

// kInvalidArgument with a message quoting text and showing the three accepted forms.
Result<RuleSelector> ParseRuleSelector(std::string_view text);

}  // namespace nlb
