#include "tools/control_settings.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/host_set.h"
#include "config/config_loader.h"
#include "config/yaml_document.h"
#include "tools/settings_line_scan.h"

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

// A key file named in the file at config_path, relative to that file's directory.
std::string KeyPath(const std::string& config_path, const std::string& key_file) {
  std::filesystem::path key_path = key_file;
  if (key_path.is_relative()) {
    key_path = (std::filesystem::path(config_path).parent_path() / key_path).lexically_normal();
  }
  return key_path.string();
}

// The lenient reading (*not_yaml set when the file does not parse as YAML): nullopt unless
// cluster.name and host.id are there and readable.
std::optional<ControlSettings> ReadLeniently(const std::string& path, bool* not_yaml) {
  try {
    std::error_code ec;
    if (std::filesystem::file_size(path, ec) > kMaxConfigBytes || ec) return std::nullopt;
    const YAML::Node root = YAML::LoadFile(path);
    const std::optional<std::string> name = Scalar(root, "cluster", "name");
    const std::optional<unsigned> id = Number(Scalar(root, "host", "id"), 1, kMaxHostId);
    if (!name || !id) return std::nullopt;
    ControlSettings s{*name, static_cast<uint16_t>(*id), ClusterConfig{}.heartbeat.key_file,
                      ClusterConfig{}.control.port};
    const YAML::Node cluster = root["cluster"];
    if (const auto key = Scalar(cluster, "heartbeat", "key_file")) s.key_file = KeyPath(path, *key);
    if (cluster["control"]) {
      const std::optional<unsigned> port = Number(Scalar(cluster, "control", "port"), 1, 65535);
      if (!port && Scalar(cluster, "control", "port")) return std::nullopt;
      if (port) s.control_port = static_cast<uint16_t>(*port);
    }
    return s;
  } catch (const YAML::Exception&) {
    *not_yaml = true;
    return std::nullopt;
  }
}

// The last resort for a file YAML cannot parse at all (a syntax error): the lines themselves.
std::optional<ControlSettings> ReadLineByLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(kMaxConfigBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  const std::optional<ScannedSettings> scanned = ScanSettingsLines(text);
  if (!scanned) return std::nullopt;
  ControlSettings s{scanned->cluster_name, scanned->host_id,
                    KeyPath(path, scanned->key_file.value_or(ClusterConfig{}.heartbeat.key_file)),
                    scanned->control_port.value_or(ClusterConfig{}.control.port)};
  return s;
}

}  // namespace

Result<ControlSettings> ReadControlSettings(const std::string& path) {
  Result<NodeConfig> loaded = LoadConfigFile(path);
  if (loaded.ok()) {
    const NodeConfig& c = loaded.value();
    return ControlSettings{c.cluster.name, c.host.id, c.cluster.heartbeat.key_file,
                           c.cluster.control.port};
  }
  if (loaded.status().code() == ErrorCode::kNotFound) return loaded.status();
  bool not_yaml = false;
  if (std::optional<ControlSettings> lenient = ReadLeniently(path, &not_yaml)) return *lenient;
  // Only a file YAML cannot parse is read line by line: one that parses but holds a bad value
  // for these fields (say control.port: 0) gets the full error, not a default.
  if (not_yaml) {
    if (std::optional<ControlSettings> scanned = ReadLineByLine(path)) return *scanned;
  }
  return loaded.status();
}

}  // namespace nlb
