// Reading and checking a port rule's `health:` mapping (docs/configuration.md "Health checks"):
// the probe's type and its fields, with defaults applied and every error located. Internal to
// config/; runs on the parsing thread.
#pragma once

#include <optional>

#include "common/health_check.h"
#include "common/port_rule.h"
#include "config/config_errors.h"
#include "config/yaml_values.h"

namespace nlb {

// rule: the rule as read so far (its name and ports give the defaults). nullopt, with errors
// reported, when anything is wrong.
std::optional<HealthCheckSpec> ReadHealthCheck(const FieldRef& field, const PortRule& rule,
                                               ConfigErrors* errors);

}  // namespace nlb
