#include "config/cluster_config.h"

namespace nlb {

std::string_view InitialStateName(InitialState s) {
  switch (s) {
    case InitialState::kStarted:
      return "started";
    case InitialState::kStopped:
      return "stopped";
  }
  return "?";
}

std::string_view DataPathModeName(DataPathMode m) {
  switch (m) {
    case DataPathMode::kCapture:
      return "capture";
    case DataPathMode::kBpf:
      return "bpf";
    case DataPathMode::kAuto:
      return "auto";
    case DataPathMode::kXdp:
      return "xdp";
  }
  return "?";
}

}  // namespace nlb
