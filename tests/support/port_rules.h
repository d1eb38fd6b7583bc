// MakeRule: a PortRule for tests, by the fields the tests vary (the rest at PortRule's defaults).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "common/ip_address.h"
#include "common/port_rule.h"

namespace nlb::test {

inline PortRule MakeRule(std::optional<IpAddress> vip, uint16_t first, uint16_t last,
                         Protocol protocol, FilteringMode mode = FilteringMode::kMultipleHost,
                         Affinity affinity = Affinity::kSingle, std::string name = "r") {
  PortRule r;
  r.name = std::move(name);
  r.vip = std::move(vip);
  r.first_port = first;
  r.last_port = last;
  r.protocol = protocol;
  r.mode = mode;
  r.affinity = affinity;
  return r;
}

}  // namespace nlb::test
