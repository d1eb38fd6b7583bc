#include "common/control_exit_code.h"

namespace nlb {

ControlExit ExitForReplyCode(std::string_view code) {
  if (code == "invalid") return ControlExit::kInvalid;
  if (code == "not_found") return ControlExit::kNotFound;
  if (code == "already") return ControlExit::kAlready;
  if (code == "refused") return ControlExit::kRefused;
  if (code == "not_in_force") return ControlExit::kNotInForce;
  return ControlExit::kInternal;
}

std::string_view ControlExitWord(ControlExit exit) {
  switch (exit) {
    case ControlExit::kOk:
      return "ok";
    case ControlExit::kInternal:
      return "internal";
    case ControlExit::kInvalid:
      return "invalid";
    case ControlExit::kNotFound:
      return "not_found";
    case ControlExit::kAlready:
      return "already";
    case ControlExit::kRefused:
      return "refused";
    case ControlExit::kUnreachable:
      return "unreachable";
    case ControlExit::kTimedOut:
      return "timed_out";
    case ControlExit::kNotInForce:
      return "not_in_force";
  }
  return "internal";
}

}  // namespace nlb
