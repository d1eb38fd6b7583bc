// Reading the "cluster" section: everything that must be identical on every host. Internal to
// config/; runs on the parsing thread.
#pragma once

#include <vector>

#include "config/cluster_config.h"
#include "config/config_errors.h"
#include "config/port_rules_section.h"
#include "config/yaml_values.h"

namespace nlb {

// Fills *cluster (defaults where a field is absent) except port_rules, which come back in
// *rules as written, for CheckPortRules and sorting by the caller. Reports every problem.
void ReadClusterSection(const FieldRef& section, ClusterConfig* cluster,
                        std::vector<WrittenRule>* rules, ConfigErrors* errors);

}  // namespace nlb
