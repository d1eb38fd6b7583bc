#include "tools/control_settings.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <optional>

#include "common/host_set.h"
#include "config/config_loader.h"

namespace nlb {
namespace {

std::optional<std::string> Scalar(const YAML::Node& parent, const char* a, const char* b) {
  if (!parent.IsMap() || !parent[a] || !parent[a].IsMap()) return std::nullopt;
  const YAML::Node node = parent[a][b];
  if (!node || !node.IsScalar() || node.Scalar().empty()) return std::nullopt;
  return node.Scalar();
}

std::optional<unsigned> Number(const std::optional<std::string>& text, unsigned low,
                               unsigned high) {
  if (!text) return std::nullopt;
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < low || value > high) {
    return std::nullopt;
  }
  return value;
}

// The lenient reading: nullopt unless cluster.name and host.id are there and readable.
std::optional<ControlSettings> ReadLeniently(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    const std::optional<std::string> name = Scalar(root, "cluster", "name");
    const std::optional<unsigned> id = Number(Scalar(root, "host", "id"), 1, kMaxHostId);
    if (!name || !id) return std::nullopt;
    ControlSettings s{*name, static_cast<uint16_t>(*id), ClusterConfig{}.heartbeat.key_file,
                      ClusterConfig{}.control.port};
    const YAML::Node cluster = root["cluster"];
    if (const auto key = Scalar(cluster, "heartbeat", "key_file")) {
      std::filesystem::path key_path = *key;
      if (key_path.is_relative()) {
        key_path = (std::filesystem::path(path).parent_path() / key_path).lexically_normal();
      }
      s.key_file = key_path.string();
    }
    if (cluster["control"]) {
      const std::optional<unsigned> port = Number(Scalar(cluster, "control", "port"), 1, 65535);
      if (!port && Scalar(cluster, "control", "port")) return std::nullopt;
      if (port) s.control_port = static_cast<uint16_t>(*port);
    }
    return s;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace

Result<ControlSettings> ReadControlSettings(const std::string& path) {
  Result<NodeConfig> loaded = LoadConfigFile(path);
  if (loaded.ok()) {
    const NodeConfig& c = loaded.value();
    return ControlSettings{c.cluster.name, c.host.id, c.cluster.heartbeat.key_file,
                           c.cluster.control.port};
  }
  if (std::optional<ControlSettings> lenient = ReadLeniently(path)) return *lenient;
  return loaded.status();
}

}  // namespace nlb
