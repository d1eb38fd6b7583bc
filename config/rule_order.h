// The canonical order of a cluster's port rules. The decision takes the first covering rule, so
// rules for one VIP come before rules for every VIP ("all"); the rest of the order only makes
// the list, the digest and nlbctl's display independent of how the file was written.
// Pure functions; any thread.
#pragma once

#include <vector>

#include "common/port_rule.h"

namespace nlb {

// VIP-specific before "all", then by VIP (IPv4 before IPv6, then by bytes), protocol
// (tcp, udp, both), first port, and finally name so that the order is total.
bool CanonicalRuleLess(const PortRule& a, const PortRule& b);

void SortPortRules(std::vector<PortRule>* rules);

}  // namespace nlb
