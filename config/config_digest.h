// The cluster digest: SHA-256 over a canonical text of the normalized cluster section. Hosts put
// it in their heartbeats; a host whose digest differs is kept out of the cluster and reported.
// Because it is computed from the parsed values, comments, layout, key order, quoting, default
// values written out or omitted, and the order of port rules do not change it. The format is
// part of the cluster protocol (docs/configuration.md "The cluster digest"). Pure; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "config/cluster_config.h"

namespace nlb {

using Digest = std::array<uint8_t, 32>;

// The text that is hashed, one "key=value" line per item, each ending in '\n':
//   nlb-cluster-digest v1
//   assignment=<kAssignmentVersion>      common/bucket_assignment.h; 2 since rules seed by name
//   name=<name>
//   vip=<address>                        one line per VIP, in the configured order
//   mac_mode=<multicast|unicast|igmp>
//   heartbeat.period_ms=<n>
//   heartbeat.tolerance=<n>
//   heartbeat.port=<n>
//   control.remote=<true|false>
//   control.port=<n>
//   rule=<name>|<vip|all>|<first>-<last>|<protocol>|<mode>|<affinity>|<ipv6 prefix or ->
//   health=<rule>|<kind>|<address>|<port>|<path>|<status>|<body>|<n>|<word 1>|...|<word n>|
//          <interval_ms>|<timeout_ms>|<rise>|<fall>     one line per health check, by rule name;
//          path, body and words written as <length>:<text>
// Rules in canonical order (config/rule_order.h). Addresses in inet_ntop form. The IPv6 prefix
// is written only for network affinity, the only affinity it affects. heartbeat.key_file is
// left out: hosts may keep the key in different places (the key itself is checked by every
// heartbeat's HMAC).
std::string CanonicalClusterText(const ClusterConfig& cluster);

// SHA-256 of CanonicalClusterText(cluster), computed with OpenSSL's EVP interface.
Digest ClusterDigest(const ClusterConfig& cluster);

// Lower-case hex, 64 characters.
std::string DigestHex(const Digest& digest);

}  // namespace nlb
