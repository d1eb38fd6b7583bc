// Loading a node's configuration: YAML text -> validated NodeConfig, or every problem found.
//
// Errors come back as one kInvalidArgument Status whose message has one line per problem, in
// file order, each naming the source, line, column and field and saying what would be valid:
//   nlb.yaml:12:14: cluster.port_rules[2].ports: 70000 is not a port (0-65535)
// Unknown fields, wrong types, missing required fields, bad values, duplicates and overlapping
// rules are all errors; nothing is silently ignored. yaml-cpp's exceptions stop here.
// Thread-safe: no shared state; the file is read once.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "config/cluster_config.h"

namespace nlb {

// Parses text already in memory. source_name is used in messages and as source_path; relative
// paths in the text are left as written.
Result<NodeConfig> ParseConfig(std::string_view yaml_text, std::string_view source_name);

// Reads and parses a file. A relative heartbeat.key_file is resolved against the file's
// directory. kNotFound when the file cannot be read; kInvalidArgument for its contents.
Result<NodeConfig> LoadConfigFile(const std::string& path);

}  // namespace nlb
