// `nlbctl ip2mac VIP`: the cluster MAC a VIP gives in each mode (common/cluster_mac.h), computed
// here without an agent. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace nlb {

// A table (MODE, CLUSTER MAC, NOTE) or one JSON object:
//   {"vip":"198.18.0.100","multicast":"03:bf:c6:12:00:64","unicast":"02:bf:c6:12:00:64",
//    "igmp":"01:00:5e:7f:00:64","igmp_group":"239.255.0.100"}
// kInvalidArgument when vip is not an IP address.
Result<std::string> ListClusterMacs(std::string_view vip, bool json);

}  // namespace nlb
