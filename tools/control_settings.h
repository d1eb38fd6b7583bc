// ControlSettings: the few fields of a configuration file that nlbctl needs to reach agents:
// cluster.name and host.id (the local socket), heartbeat.key_file and control.port (remote).
// A file that fails full validation elsewhere (say a bad port rule, the usual reason to reload)
// is read leniently for just these fields, so that `nlbctl reload` still reaches the agent, which
// then says what it refuses and counts it. A file YAML cannot parse at all (a syntax error) is read
// line by line for them (tools/settings_line_scan.h), so that nlbctl still reaches the local agent.
// Reads a file; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace nlb {

struct ControlSettings {
  std::string cluster_name;
  uint16_t host_id = 0;
  std::string key_file;  // absolute, or relative to the working directory
  uint16_t control_port = 0;
};

// The fields of a valid file; else, when the four can still be read (cluster.name, host.id; the
// others may take their defaults) as YAML or line by line, those; else the full validation's error.
Result<ControlSettings> ReadControlSettings(const std::string& path);

}  // namespace nlb
