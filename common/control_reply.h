// The two shapes of a control reply that changes something (docs/control.md): a refusal
// {"ok":false,"host":N,"code":C,"error":M} and a success {"ok":true,"host":N,"result":M}. Codes
// are the ones nlbctl maps to exit codes (common/control_exit_code.h). Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nlb {

std::string ControlRefusal(uint16_t host, std::string_view code, std::string_view message);
std::string ControlDone(uint16_t host, std::string_view message);

}  // namespace nlb
