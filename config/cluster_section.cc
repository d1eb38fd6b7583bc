#include "config/cluster_section.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "config/mapping_reader.h"

namespace nlb {
namespace {

constexpr std::array<std::pair<std::string_view, MacMode>, 3> kMacModes{
    {{"multicast", MacMode::kMulticast}, {"unicast", MacMode::kUnicast}, {"igmp", MacMode::kIgmp}}};

constexpr size_t kMaxClusterNameLength = 32;

void ReadName(const FieldRef& field, ClusterConfig* cluster, ConfigErrors* errors) {
  std::optional<std::string> name = ReadString(field, errors);
  if (!name.has_value()) return;
  const bool ok_chars = std::all_of(name->begin(), name->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!ok_chars || name->size() > kMaxClusterNameLength) {
    errors->Add(LocationOf(field), field.path,
                "'" + *name + "' is not a cluster name (1-32 of a-z, 0-9 and -)");
    return;
  }
  cluster->name = *name;
}

// Returns false when any VIP had an error, so rules are not checked against a partial list.
bool ReadVips(const FieldRef& field, ClusterConfig* cluster, ConfigErrors* errors) {
  if (!field.node.IsSequence() || field.node.size() == 0) {
    errors->Add(LocationOf(field), field.path,
                "expected a list of at least one address (like [198.18.0.100, \"2001:2::100\"]), "
                "found " +
                    DescribeValue(field.node));
    return false;
  }
  bool all_ok = true;
  std::map<IpAddress, int> first_line;
  for (size_t i = 0; i < field.node.size(); ++i) {
    const FieldRef entry{field.node[i], field.path + "[" + std::to_string(i) + "]",
                         LocationOf(field)};
    std::optional<IpAddress> vip = ReadAddress(entry, errors);
    if (!vip.has_value()) {
      all_ok = false;
      continue;
    }
    auto [it, inserted] = first_line.emplace(*vip, LocationOf(entry).line);
    if (!inserted) {
      errors->Add(LocationOf(entry), entry.path,
                  vip->ToString() + " is listed twice (first at line " +
                      std::to_string(it->second) + "); VIPs must be unique");
      all_ok = false;
      continue;
    }
    cluster->vips.push_back(*vip);
  }
  return all_ok;
}

void ReadHeartbeat(const FieldRef& field, HeartbeatConfig* heartbeat, ConfigErrors* errors) {
  MappingReader reader(field, {"period_ms", "tolerance", "port", "key_file"}, errors);
  if (reader.Has("period_ms")) {
    if (auto v = ReadUnsigned(reader.Field("period_ms"), 100, 10000, "a period in milliseconds",
                              errors)) {
      heartbeat->period_ms = *v;
    }
  }
  if (reader.Has("tolerance")) {
    if (auto v =
            ReadUnsigned(reader.Field("tolerance"), 2, 100, "a count of missed periods", errors)) {
      heartbeat->tolerance = *v;
    }
  }
  if (reader.Has("port")) {
    if (auto v = ReadUnsigned(reader.Field("port"), 1, 65535, "a port", errors)) {
      heartbeat->port = static_cast<uint16_t>(*v);
    }
  }
  if (reader.Has("key_file")) {
    if (auto v = ReadString(reader.Field("key_file"), errors)) heartbeat->key_file = *v;
  }
}

void ReadControl(const FieldRef& field, ControlConfig* control, ConfigErrors* errors) {
  MappingReader reader(field, {"remote", "port"}, errors);
  if (reader.Has("remote")) {
    if (auto v = ReadBool(reader.Field("remote"), errors)) control->remote = *v;
  }
  if (reader.Has("port")) {
    if (auto v = ReadUnsigned(reader.Field("port"), 1, 65535, "a port", errors)) {
      control->port = static_cast<uint16_t>(*v);
    }
  }
}

void ReadConnectionTracking(const FieldRef& field, ConnectionTrackingConfig* tracking,
                            ConfigErrors* errors) {
  MappingReader reader(
      field,
      {"capacity", "idle_timeout_s", "close_delay_s", "moving_timeout_s", "half_open_hold_s"},
      errors);
  struct Bound {
    const char* name;
    uint32_t min;
    uint32_t max;
    const char* what;
    uint32_t* value;
  };
  const Bound bounds[] = {
      {"capacity", 1024, 67108864, "a number of flows", &tracking->capacity},
      {"idle_timeout_s", 10, 604800, "a time in seconds", &tracking->idle_timeout_s},
      {"close_delay_s", 1, 600, "a time in seconds", &tracking->close_delay_s},
      {"moving_timeout_s", 1, 86400, "a time in seconds", &tracking->moving_timeout_s},
      // Past the kernel's half-open timeout (60 s) the flow is gone anyway: a larger hold would
      // say something the product does not do.
      {"half_open_hold_s", 1, 60, "a time in seconds", &tracking->half_open_hold_s},
  };
  for (const Bound& b : bounds) {
    if (!reader.Has(b.name)) continue;
    if (auto v = ReadUnsigned(reader.Field(b.name), b.min, b.max, b.what, errors)) *b.value = *v;
  }
}

}  // namespace

void ReadClusterSection(const FieldRef& section, ClusterConfig* cluster,
                        std::vector<WrittenRule>* rules, ConfigErrors* errors) {
  MappingReader reader(
      section,
      {"name", "vips", "mac_mode", "heartbeat", "control", "connection_tracking", "port_rules"},
      errors);
  if (!reader.valid()) return;
  if (auto field = reader.Require("name")) ReadName(*field, cluster, errors);
  bool vips_ok = false;
  if (auto field = reader.Require("vips")) vips_ok = ReadVips(*field, cluster, errors);
  if (reader.Has("mac_mode")) {
    if (auto v = ReadChoice<MacMode>(reader.Field("mac_mode"), kMacModes, errors)) {
      cluster->mac_mode = *v;
    }
  }
  ReadHeartbeat(reader.Field("heartbeat"), &cluster->heartbeat, errors);
  ReadControl(reader.Field("control"), &cluster->control, errors);
  ReadConnectionTracking(reader.Field("connection_tracking"), &cluster->connection_tracking,
                         errors);
  *rules = ReadPortRules(reader.Field("port_rules"), vips_ok ? &cluster->vips : nullptr, errors);
}

}  // namespace nlb
