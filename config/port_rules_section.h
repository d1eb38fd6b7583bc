// Reading and checking cluster.port_rules: each rule's fields with their defaults, then the
// checks that need the whole list (unique names, no overlaps). Internal to config/; runs on the
// parsing thread.
#pragma once

#include <optional>
#include <vector>

#include "common/health_check.h"
#include "common/ip_address.h"
#include "common/port_rule.h"
#include "config/config_errors.h"
#include "config/yaml_values.h"

namespace nlb {

// A rule with where it was written: messages about overlaps point at both rules by their
// place in the file, which is not their place after canonical sorting.
struct WrittenRule {
  PortRule rule;
  std::string path;  // "cluster.port_rules[2]"
  SourceLocation where;
  std::optional<HealthCheckSpec> health;  // the rule's `health:`, when it has one
};

// Reads the list; a rule with errors is reported and left out. cluster_vips: the VIPs a rule may
// name, or nullptr when cluster.vips itself had errors (to avoid follow-on complaints).
// An absent list gives one rule covering everything (Windows NLB's default rule); an explicit
// empty list gives none.
std::vector<WrittenRule> ReadPortRules(const FieldRef& field,
                                       const std::vector<IpAddress>* cluster_vips,
                                       ConfigErrors* errors);

// Reports rules sharing a name, and every pair of overlapping rules, naming both.
void CheckPortRules(const std::vector<WrittenRule>& rules, ConfigErrors* errors);

}  // namespace nlb
