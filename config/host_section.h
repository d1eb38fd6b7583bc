// Reading the "host" section: this member's identity and its per-rule weights and priorities.
// Internal to config/; runs on the parsing thread.
#pragma once

#include "config/cluster_config.h"
#include "config/config_errors.h"
#include "config/yaml_values.h"

namespace nlb {

// Fills *host, with rule_params aligned to cluster.port_rules (which must already be in their
// final, canonical order) and every default applied. Reports every problem.
void ReadHostSection(const FieldRef& section, const ClusterConfig& cluster, HostConfig* host,
                     ConfigErrors* errors);

}  // namespace nlb
