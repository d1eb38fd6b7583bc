// Where a host's local control socket lives, so that nlbd (which creates it) and nlbctl (which
// finds it from the same configuration file) agree. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nlb {

inline constexpr std::string_view kControlSocketDirectory = "/run/nlb";

// "/run/nlb/<cluster>-<host id>.sock": one per agent, so test clusters can share a machine.
std::string ControlSocketPath(std::string_view cluster_name, uint16_t host_id);

}  // namespace nlb
