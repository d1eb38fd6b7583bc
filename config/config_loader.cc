#include "config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "config/cluster_section.h"
#include "config/config_errors.h"
#include "config/host_section.h"
#include "config/mapping_reader.h"
#include "config/rule_order.h"
#include "config/yaml_document.h"

namespace nlb {
namespace {

SourceLocation MarkLocation(const YAML::Mark& mark) {
  return mark.is_null() ? SourceLocation{} : SourceLocation{mark.line + 1, mark.column + 1};
}

void ReadDocument(const YAML::Node& root, NodeConfig* config, ConfigErrors* errors) {
  const SourceLocation start{1, 1};
  if (!root.IsDefined() || root.IsNull()) {
    errors->Add(start, "",
                "the configuration is empty; expected a mapping with 'cluster:' and "
                "'host:' sections");
    return;
  }
  MappingReader top(FieldRef{root, "", start}, {"cluster", "host"}, errors);
  if (!top.valid()) return;
  std::vector<WrittenRule> rules;
  if (auto section = top.Require("cluster")) {
    ReadClusterSection(*section, &config->cluster, &rules, errors);
  }
  CheckPortRules(rules, errors);
  for (WrittenRule& r : rules) {
    if (r.health.has_value()) config->cluster.health_checks.push_back(std::move(*r.health));
    config->cluster.port_rules.push_back(std::move(r.rule));
  }
  SortPortRules(&config->cluster.port_rules);
  std::sort(config->cluster.health_checks.begin(), config->cluster.health_checks.end(),
            [](const HealthCheckSpec& a, const HealthCheckSpec& b) { return a.rule < b.rule; });
  if (auto section = top.Require("host")) {
    ReadHostSection(*section, config->cluster, &config->host, errors);
  }
}

}  // namespace

Result<NodeConfig> ParseConfig(std::string_view yaml_text, std::string_view source_name) {
  NodeConfig config;
  config.source_path = std::string(source_name);
  ConfigErrors errors{std::string(source_name)};
  const YAML::Node root = LoadSingleDocument(yaml_text, &errors);
  if (errors.empty()) {
    try {
      ReadDocument(root, &config, &errors);
    } catch (const YAML::Exception& e) {
      // Not the text's fault as far as we can tell (e.g. a misuse of yaml-cpp by this module),
      // but still a refusal to load rather than a crash.
      errors.Add(MarkLocation(e.mark), "", "cannot read the YAML: " + e.msg);
    }
  }
  if (!errors.empty()) return errors.ToStatus();
  config.warnings = errors.warnings();
  return config;
}

Result<NodeConfig> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return Status::Error(ErrorCode::kNotFound, path + ": cannot read: no such file");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return Status::Error(ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxConfigBytes) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         path + ": " + std::to_string(size) +
                             " bytes is too large for a configuration (limit 1 MiB)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Error(ErrorCode::kNotFound,
                         path + ": cannot read: " + std::string(std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status::Error(ErrorCode::kUnavailable, path + ": read failed");
  }
  Result<NodeConfig> config = ParseConfig(text.str(), path);
  if (!config.ok()) return config;
  std::filesystem::path key = config->cluster.heartbeat.key_file;
  if (key.is_relative()) {
    config->cluster.heartbeat.key_file =
        (std::filesystem::path(path).parent_path() / key).lexically_normal().string();
  }
  return config;
}

}  // namespace nlb
