// The request line of the control protocol (docs/control.md): "COMMAND [ARG...]", words
// separated by spaces or tabs, at most kMaxControlRequestBytes. Shared by the local socket and the
// TLS server so that both read requests alike. Pure; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nlb {

inline constexpr size_t kMaxControlRequestBytes = 4096;

// The words of one request line (without its newline). kInvalidArgument when it holds none or
// holds a NUL byte.
Result<std::vector<std::string>> SplitControlRequest(std::string_view line);

}  // namespace nlb
