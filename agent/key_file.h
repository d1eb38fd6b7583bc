// KeyFile: loads the cluster key (the HMAC key for heartbeats and the control credential).
//
// The file must exist, be a regular file, be readable by its owner only (no group or other
// permission bits), and hold at least 16 bytes. Surrounding white space is stripped so that a
// key written by `head -c 32 /dev/urandom | base64 > key` works. Called once at start and reload.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace nlb::agent {

inline constexpr size_t kMinimumKeyBytes = 16;

Result<std::vector<uint8_t>> LoadKeyFile(const std::string& path);

}  // namespace nlb::agent
