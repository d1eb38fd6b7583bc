// `nlbctl keygen FILE`: the one set-up step of a cluster's credential. Writes a new random
// cluster key (32 bytes from OpenSSL's CSPRNG, base64, newline) with mode 0600, the form
// ReadClusterKey accepts. The same file authenticates heartbeats and (through DeriveControlPsk)
// remote nlbctl; copy it unchanged to every host. Thread-safe (no shared state).
#pragma once

#include <string>

#include "common/status.h"

namespace nlb {

inline constexpr size_t kGeneratedKeyBytes = 32;

// Without force an existing path is left alone: kAlreadyExists. With force the file is replaced
// atomically (a new file renamed over it). Other failures: kPermission, kNotFound (directory),
// kUnavailable, kInternal (no randomness), each naming the path.
Status WriteNewClusterKey(const std::string& path, bool force);

}  // namespace nlb
