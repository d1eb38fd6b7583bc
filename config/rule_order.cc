#include "config/rule_order.h"

#include <algorithm>
#include <tuple>

namespace nlb {

bool CanonicalRuleLess(const PortRule& a, const PortRule& b) {
  const bool a_all = !a.vip.has_value();
  const bool b_all = !b.vip.has_value();
  if (a_all != b_all) return b_all;
  if (!a_all && *a.vip != *b.vip) return *a.vip < *b.vip;
  return std::tie(a.protocol, a.first_port, a.name) < std::tie(b.protocol, b.first_port, b.name);
}

void SortPortRules(std::vector<PortRule>* rules) {
  std::sort(rules->begin(), rules->end(), CanonicalRuleLess);
}

}  // namespace nlb
