#include "config/port_rules_section.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <utility>

#include "config/health_check_section.h"
#include "config/mapping_reader.h"

namespace nlb {
namespace {

constexpr std::array<std::pair<std::string_view, Protocol>, 3> kProtocols{
    {{"tcp", Protocol::kTcp}, {"udp", Protocol::kUdp}, {"both", Protocol::kBoth}}};
constexpr std::array<std::pair<std::string_view, FilteringMode>, 3> kModes{
    {{"multiple", FilteringMode::kMultipleHost},
     {"single", FilteringMode::kSingleHost},
     {"disabled", FilteringMode::kDisabled}}};
constexpr std::array<std::pair<std::string_view, Affinity>, 3> kAffinities{
    {{"none", Affinity::kNone}, {"single", Affinity::kSingle}, {"network", Affinity::kNetwork}}};

constexpr size_t kMaxRuleNameLength = 64;

// Names travel in heartbeats, nlbctl commands and the digest's line format, so they exclude
// spaces and '|'; the characters of a derived name ("[2001:2::100]:80-80/tcp") are allowed.
bool IsRuleNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-_.:/[]").find(c) != std::string_view::npos;
}

std::optional<std::string> ReadRuleName(const FieldRef& field, ConfigErrors* errors) {
  std::optional<std::string> name = ReadString(field, errors);
  if (!name.has_value()) return std::nullopt;
  const bool ok_chars = std::all_of(name->begin(), name->end(), IsRuleNameChar);
  if (!ok_chars || name->size() > kMaxRuleNameLength) {
    errors->Add(LocationOf(field), field.path,
                "'" + *name + "' is not a rule name (1-64 of letters, digits and - _ . : / [ ])");
    return std::nullopt;
  }
  return name;
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

// "80" or "8000-8100".
bool ReadPorts(const FieldRef& field, PortRule* rule, ConfigErrors* errors) {
  if (!field.node.IsScalar() || field.node.Scalar().empty()) {
    errors->Add(LocationOf(field), field.path,
                "expected a port or port range (like 80 or \"8000-8100\"), found " +
                    DescribeValue(field.node));
    return false;
  }
  const std::string& text = field.node.Scalar();
  const size_t dash = text.find('-', 1);
  const std::string_view first_text = std::string_view(text).substr(0, dash);
  const std::string_view last_text =
      dash == std::string::npos ? first_text : std::string_view(text).substr(dash + 1);
  for (std::string_view part : {first_text, last_text}) {
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    if (!numeric) {
      errors->Add(LocationOf(field), field.path,
                  "'" + text + "' is not a port or port range (like 80 or \"8000-8100\")");
      return false;
    }
    if (!ParsePort(part).has_value()) {
      errors->Add(LocationOf(field), field.path, std::string(part) + " is not a port (0-65535)");
      return false;
    }
  }
  rule->first_port = *ParsePort(first_text);
  rule->last_port = *ParsePort(last_text);
  if (rule->first_port > rule->last_port) {
    errors->Add(LocationOf(field), field.path,
                "'" + text + "' is an empty range: the first port is above the last");
    return false;
  }
  return true;
}

bool ReadRuleVip(const FieldRef& field, const std::vector<IpAddress>* cluster_vips, PortRule* rule,
                 ConfigErrors* errors) {
  if (field.node.IsScalar() && field.node.Scalar() == "all") {
    rule->vip.reset();
    return true;
  }
  std::optional<IpAddress> vip = ReadAddress(field, errors);
  if (!vip.has_value()) return false;
  if (cluster_vips == nullptr) return true;
  if (std::find(cluster_vips->begin(), cluster_vips->end(), *vip) == cluster_vips->end()) {
    std::string valid = "all";
    for (const IpAddress& v : *cluster_vips) valid += ", " + v.ToString();
    errors->Add(LocationOf(field), field.path,
                vip->ToString() + " is not one of cluster.vips; expected one of: " + valid);
    return false;
  }
  rule->vip = vip;
  return true;
}

// Reads one rule; false (with errors reported) when any field is wrong.
bool ReadRule(const FieldRef& entry, const std::vector<IpAddress>* cluster_vips, PortRule* rule,
              std::optional<HealthCheckSpec>* health, ConfigErrors* errors) {
  const size_t errors_before = errors->size();
  MappingReader reader(
      entry, {"name", "vip", "ports", "protocol", "mode", "affinity", "ipv6_prefix", "health"},
      errors);
  if (!reader.valid()) return false;
  if (reader.Has("vip")) ReadRuleVip(reader.Field("vip"), cluster_vips, rule, errors);
  if (reader.Has("ports")) ReadPorts(reader.Field("ports"), rule, errors);
  if (reader.Has("protocol")) {
    if (auto v = ReadChoice<Protocol>(reader.Field("protocol"), kProtocols, errors)) {
      rule->protocol = *v;
    }
  }
  if (reader.Has("mode")) {
    if (auto v = ReadChoice<FilteringMode>(reader.Field("mode"), kModes, errors)) rule->mode = *v;
  }
  if (reader.Has("affinity")) {
    if (auto v = ReadChoice<Affinity>(reader.Field("affinity"), kAffinities, errors)) {
      rule->affinity = *v;
    }
  }
  if (reader.Has("ipv6_prefix")) {
    if (auto v =
            ReadUnsigned(reader.Field("ipv6_prefix"), 1, 128, "an IPv6 prefix length", errors)) {
      rule->ipv6_network_prefix = static_cast<uint8_t>(*v);
    }
  }
  if (reader.Has("name")) {
    if (auto v = ReadRuleName(reader.Field("name"), errors)) rule->name = *v;
  } else {
    rule->name = rule->Describe();
  }
  // Last: its defaults come from the rule's name and ports.
  if (reader.Has("health")) *health = ReadHealthCheck(reader.Field("health"), *rule, errors);
  return errors->size() == errors_before;
}

}  // namespace

std::vector<WrittenRule> ReadPortRules(const FieldRef& field,
                                       const std::vector<IpAddress>* cluster_vips,
                                       ConfigErrors* errors) {
  std::vector<WrittenRule> rules;
  if (!field.node.IsDefined()) {
    PortRule everything;
    everything.name = everything.Describe();
    rules.push_back({everything, field.path, field.fallback, std::nullopt});
    return rules;
  }
  if (field.node.IsNull()) return rules;  // "port_rules:" with nothing: no rules, as with []
  if (!field.node.IsSequence()) {
    errors->Add(
        LocationOf(field), field.path,
        "expected a list of rules (lines starting with '- '), found " + DescribeValue(field.node));
    return rules;
  }
  for (size_t i = 0; i < field.node.size(); ++i) {
    const FieldRef entry{field.node[i], field.path + "[" + std::to_string(i) + "]",
                         LocationOf(field)};
    PortRule rule;
    std::optional<HealthCheckSpec> health;
    if (ReadRule(entry, cluster_vips, &rule, &health, errors)) {
      rules.push_back({std::move(rule), entry.path, LocationOf(entry), std::move(health)});
    }
  }
  return rules;
}

void CheckPortRules(const std::vector<WrittenRule>& rules, ConfigErrors* errors) {
  std::map<std::string, const WrittenRule*> by_name;
  for (const WrittenRule& r : rules) {
    auto [it, inserted] = by_name.emplace(r.rule.name, &r);
    if (!inserted) {
      errors->Add(r.where, r.path + ".name",
                  "rule name '" + r.rule.name + "' is already used by " + it->second->path +
                      " (line " + std::to_string(it->second->where.line) +
                      "); rule names must be unique");
    }
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (!rules[i].rule.Overlaps(rules[j].rule)) continue;
      errors->Add(rules[i].where, rules[i].path,
                  "rule '" + rules[i].rule.name + "' (" + rules[i].rule.Describe() +
                      ") overlaps rule '" + rules[j].rule.name + "' (" + rules[j].rule.Describe() +
                      ", " + rules[j].path + " at line " + std::to_string(rules[j].where.line) +
                      "); a packet may match only one rule per VIP");
    }
  }
}

}  // namespace nlb
