#include "config/cluster_config.h"

namespace nlb {

std::string_view InitialStateName(InitialState s) {
  switch (s) {
    case InitialState::kStarted: return "started";
    case InitialState::kStopped: return "stopped";
  }
  return "?";
}

}  // namespace nlb
