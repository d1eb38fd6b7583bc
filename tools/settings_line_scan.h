// SettingsLineScan: cluster.name and host.id (and heartbeat.key_file, control.port when written
// plainly) read line by line from a file that YAML cannot parse, so that a syntax error in the
// host's file does not lock the operator out of the local agent (every local nlbctl command finds
// the socket from these two fields). The last resort of ReadControlSettings, never a substitute
// for the agent's own validation: it only ever names a socket to try. Pure; any thread.
//
// What it understands: top-level "cluster:" and "host:" blocks in block style, their direct
// children "name:" and "id:" at the block's first indentation, and "key_file:" / "port:" inside
// the "heartbeat" / "control" child, in block or one-line flow style. Comments and quotes around
// values are dropped; anything else is skipped, not reported.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nlb {

struct ScannedSettings {
  std::string cluster_name;
  uint16_t host_id = 0;
  std::optional<std::string> key_file;  // as written
  std::optional<uint16_t> control_port;
};

// nullopt unless a valid-looking cluster name (1-32 of a-z, 0-9, -) and host id were found.
std::optional<ScannedSettings> ScanSettingsLines(std::string_view text);

}  // namespace nlb
