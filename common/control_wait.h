// The `wait=MS` word of a control request (docs/control.md, "When a command returns"): a command
// that changes what this host announces (start, stop, drainstop, enable, disable, drain) carries
// it as its last word when the client wants the reply only once the change is in force, at most
// MS milliseconds later. nlbctl sends it unless --no-wait; a request without it is answered at
// once, as before. Pure; any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nlb {

inline constexpr std::chrono::milliseconds kMaxControlWait{600000};

// True for the commands that may wait until in force.
bool CommandCanWait(std::string_view command);

// "wait=MS" for wait.
std::string ControlWaitWord(std::chrono::milliseconds wait);

// Removes a last word "wait=MS" from words and returns MS (nullopt when there is none).
// kInvalidArgument when the word is malformed, out of 1..kMaxControlWait, or follows a command
// that cannot wait.
Result<std::optional<std::chrono::milliseconds>> TakeControlWait(std::vector<std::string>& words);

}  // namespace nlb
