#include "config/host_section.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "config/mapping_reader.h"

namespace nlb {
namespace {

constexpr std::array<std::pair<std::string_view, InitialState>, 2> kStates{
    {{"started", InitialState::kStarted}, {"stopped", InitialState::kStopped}}};
constexpr std::array<std::pair<std::string_view, DataPathMode>, 4> kDataPaths{
    {{"auto", DataPathMode::kAuto},
     {"bpf", DataPathMode::kBpf},
     {"capture", DataPathMode::kCapture},
     {"xdp", DataPathMode::kXdp}}};

constexpr uint32_t kMaxHostId = 256;
constexpr uint32_t kMaxPriority = 32;
constexpr size_t kMaxInterfaceNameLength = 15;  // IFNAMSIZ - 1

void ReadInterface(const FieldRef& field, HostConfig* host, ConfigErrors* errors) {
  std::optional<std::string> name = ReadString(field, errors);
  if (!name.has_value()) return;
  const bool bad_char = std::any_of(name->begin(), name->end(), [](char c) {
    return c == '/' || c == ' ' || c == '\t' || c == '\n';
  });
  if (bad_char || *name == "." || *name == ".." || name->size() > kMaxInterfaceNameLength) {
    errors->Add(LocationOf(field), field.path,
                "'" + *name +
                    "' is not a Linux interface name (1-15 characters, no '/' or "
                    "spaces)");
    return;
  }
  host->interface = *name;
}

void ReadDedicatedAddress(const FieldRef& field, const ClusterConfig& cluster, HostConfig* host,
                          ConfigErrors* errors) {
  std::optional<IpAddress> address = ReadAddress(field, errors);
  if (!address.has_value()) return;
  if (std::find(cluster.vips.begin(), cluster.vips.end(), *address) != cluster.vips.end()) {
    errors->Add(LocationOf(field), field.path,
                address->ToString() +
                    " is one of cluster.vips; the dedicated address must be "
                    "this host's own address");
    return;
  }
  host->dedicated_address = *address;
}

std::string RuleNames(const ClusterConfig& cluster) {
  std::string out;
  for (const PortRule& r : cluster.port_rules) out += (out.empty() ? "" : ", ") + r.name;
  return out.empty() ? "(none: the cluster has no port rules)" : out;
}

// One entry of host.rules: {rule, weight, priority}.
void ReadOverride(const FieldRef& entry, const ClusterConfig& cluster,
                  std::map<size_t, int>* seen_line, HostConfig* host, ConfigErrors* errors) {
  MappingReader reader(entry, {"rule", "weight", "priority"}, errors);
  if (!reader.valid()) return;
  std::optional<FieldRef> rule_field = reader.Require("rule");
  if (!rule_field.has_value()) return;
  std::optional<std::string> name = ReadString(*rule_field, errors);
  if (!name.has_value()) return;
  const auto it = std::find_if(cluster.port_rules.begin(), cluster.port_rules.end(),
                               [&](const PortRule& r) { return r.name == *name; });
  if (it == cluster.port_rules.end()) {
    std::vector<std::string_view> names;
    for (const PortRule& r : cluster.port_rules) names.push_back(r.name);
    std::string message = "'" + *name + "' is not a rule of cluster.port_rules";
    if (auto near = ClosestName(*name, names)) {
      message += " (did you mean '" + std::string(*near) + "'?)";
    } else {
      message += "; rules: " + RuleNames(cluster);
    }
    errors->Add(LocationOf(*rule_field), rule_field->path, message);
    return;
  }
  const size_t index = static_cast<size_t>(it - cluster.port_rules.begin());
  auto [seen, inserted] = seen_line->emplace(index, LocationOf(*rule_field).line);
  if (!inserted) {
    errors->Add(
        LocationOf(*rule_field), rule_field->path,
        "rule '" + *name + "' already has settings at line " + std::to_string(seen->second));
    return;
  }
  HostRuleParams& params = host->rule_params[index];
  if (reader.Has("weight")) {
    const FieldRef field = reader.Field("weight");
    if (it->mode != FilteringMode::kMultipleHost) {
      errors->Add(LocationOf(field), field.path,
                  "weight applies only to multiple-host rules; rule '" + *name + "' is mode " +
                      std::string(FilteringModeName(it->mode)));
    } else if (auto v = ReadUnsigned(field, 0, 100, "a weight", errors)) {
      params.weight = *v;
    }
  }
  if (reader.Has("priority")) {
    const FieldRef field = reader.Field("priority");
    if (it->mode != FilteringMode::kSingleHost) {
      errors->Add(LocationOf(field), field.path,
                  "priority applies only to single-host rules; rule '" + *name + "' is mode " +
                      std::string(FilteringModeName(it->mode)));
    } else if (auto v = ReadUnsigned(field, 1, kMaxPriority, "a priority", errors)) {
      params.priority = *v;
    }
  } else if (it->mode == FilteringMode::kSingleHost && host->id > kMaxPriority) {
    errors->Add(reader.location(), reader.path() + ".priority",
                "required for single-host rule '" + *name + "' because host.id " +
                    std::to_string(host->id) + " is above 32 (priorities are 1-32)");
  }
}

void ReadOverrides(const FieldRef& field, const ClusterConfig& cluster, HostConfig* host,
                   ConfigErrors* errors) {
  std::map<size_t, int> seen_line;
  if (field.node.IsDefined() && !field.node.IsNull()) {
    if (!field.node.IsSequence()) {
      errors->Add(
          LocationOf(field), field.path,
          "expected a list of rule settings (- rule: NAME), found " + DescribeValue(field.node));
      return;
    }
    for (size_t i = 0; i < field.node.size(); ++i) {
      const FieldRef entry{field.node[i], field.path + "[" + std::to_string(i) + "]",
                           LocationOf(field)};
      ReadOverride(entry, cluster, &seen_line, host, errors);
    }
  }
  // A host with an id above 32 has no default priority: every single-host rule needs one.
  if (host->id <= kMaxPriority) return;
  for (size_t i = 0; i < cluster.port_rules.size(); ++i) {
    if (cluster.port_rules[i].mode != FilteringMode::kSingleHost || seen_line.contains(i)) {
      continue;
    }
    errors->Add(LocationOf(field), field.path,
                "single-host rule '" + cluster.port_rules[i].name +
                    "' needs a priority (1-32) for this host because host.id " +
                    std::to_string(host->id) + " is above 32");
  }
}

// "ADDRESS:PORT", IPv6 in brackets: "[::1]:9180".
void ReadListen(const FieldRef& field, HttpListenConfig* http, ConfigErrors* errors) {
  std::optional<std::string> text = ReadString(field, errors);
  if (!text.has_value()) return;
  const std::string bad = "'" + *text + "' is not ADDRESS:PORT (e.g. 127.0.0.1:9180 or [::1]:9180)";
  const size_t colon = text->rfind(':');
  if (colon == std::string::npos || colon == 0) {
    errors->Add(LocationOf(field), field.path, bad);
    return;
  }
  std::string_view host = std::string_view(*text).substr(0, colon);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  const std::optional<IpAddress> address = IpAddress::Parse(host);
  // An IPv6 address must be bracketed, or its own colons would be taken for the port's.
  if (!address.has_value() || (address->is_v6() != bracketed)) {
    errors->Add(LocationOf(field), field.path, bad);
    return;
  }
  const std::string port_text = text->substr(colon + 1);
  uint32_t port = 0;
  bool digits = !port_text.empty() && port_text.size() <= 5;
  for (char c : port_text) {
    digits = digits && c >= '0' && c <= '9';
    if (digits) port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (!digits || port == 0 || port > 65535) {
    errors->Add(LocationOf(field), field.path,
                "'" + port_text + "' in '" + *text + "' is not a port (1-65535)");
    return;
  }
  http->address = *address;
  http->port = static_cast<uint16_t>(port);
}

void ReadHttp(const FieldRef& field, HttpListenConfig* http, ConfigErrors* errors) {
  MappingReader reader(field, {"enabled", "listen", "max_connections"}, errors);
  if (!reader.valid()) return;
  if (reader.Has("enabled")) {
    if (auto v = ReadBool(reader.Field("enabled"), errors)) http->enabled = *v;
  }
  if (reader.Has("listen")) ReadListen(reader.Field("listen"), http, errors);
  if (reader.Has("max_connections")) {
    if (auto v =
            ReadUnsigned(reader.Field("max_connections"), 1, 1024, "a connection limit", errors)) {
      http->max_connections = *v;
    }
  }
}

}  // namespace

void ReadHostSection(const FieldRef& section, const ClusterConfig& cluster, HostConfig* host,
                     ConfigErrors* errors) {
  MappingReader reader(section,
                       {"id", "interface", "dedicated_address", "initial_state", "kernel_fast_path",
                        "data_path", "rules", "http", "state_file"},
                       errors);
  if (!reader.valid()) return;
  if (auto field = reader.Require("id")) {
    if (auto v = ReadUnsigned(*field, 1, kMaxHostId, "a host id", errors)) {
      host->id = static_cast<uint16_t>(*v);
    }
  }
  if (auto field = reader.Require("interface")) ReadInterface(*field, host, errors);
  if (auto field = reader.Require("dedicated_address")) {
    ReadDedicatedAddress(*field, cluster, host, errors);
  }
  if (reader.Has("initial_state")) {
    if (auto v = ReadChoice<InitialState>(reader.Field("initial_state"), kStates, errors)) {
      host->initial_state = *v;
    }
  }
  // Retired with the kernel fast path: operators' files that set it still load (a value that is
  // not a boolean was never valid, and stays an error).
  if (reader.Has("kernel_fast_path")) {
    const FieldRef field = reader.Field("kernel_fast_path");
    if (ReadBool(field, errors)) {
      errors->Warn(LocationOf(field), field.path,
                   "ignored: the kernel fast path was retired, the capture back end delivers "
                   "every packet itself (docs/configuration.md)");
    }
  }
  if (reader.Has("data_path")) {
    if (auto v = ReadChoice<DataPathMode>(reader.Field("data_path"), kDataPaths, errors)) {
      host->data_path = *v;
    }
  }
  ReadHttp(reader.Field("http"), &host->http, errors);
  if (reader.Has("state_file")) {
    const FieldRef field = reader.Field("state_file");
    if (auto v = ReadString(field, errors)) {
      if ((*v)[0] != '/' || v->find('\0') != std::string::npos || v->back() == '/') {
        errors->Add(LocationOf(field), field.path,
                    "must be an absolute file path, e.g. /var/lib/nlb/state-web-1");
      } else {
        host->state_file = *v;
      }
    }
  }
  // Defaults first, so that rules without an entry keep them: equal load, and the host id as the
  // single-host priority (as Windows NLB does) while it fits the 1-32 range.
  HostRuleParams defaults;
  defaults.weight = 50;
  defaults.priority = std::clamp<uint32_t>(host->id, 1, kMaxPriority);
  host->rule_params.assign(cluster.port_rules.size(), defaults);
  // Without a valid id the priority checks would only repeat the id's own error.
  if (host->id == 0) return;
  ReadOverrides(reader.Field("rules"), cluster, host, errors);
}

}  // namespace nlb
