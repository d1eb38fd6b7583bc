// The cluster key file: the shared secret every heartbeat's HMAC is computed with. The daemon
// reads it at start and on reload; `nlbd --check-config` reads it to fail early. Thread-safe.
//
// The key is the file's bytes as they are (a trailing newline is part of the key, so copy the
// file rather than retyping it). Every host must hold the same bytes.
#pragma once

#include <string>

#include "common/status.h"

namespace nlb {

inline constexpr size_t kMinClusterKeyBytes = 16;
inline constexpr size_t kMaxClusterKeyBytes = 4096;

// The key, after checking that the file is a regular file owned by root (or by the user running
// this process, for nlbctl run by an operator with a copy of the key) that neither group nor
// others may access (mode 0600 or 0400) and holds 16..4096 bytes. Errors name the path and the
// fix: kNotFound (missing), kPermission (owner, mode, or not readable by us), kInvalidArgument
// (size, type).
Result<std::string> ReadClusterKey(const std::string& path);

}  // namespace nlb
