#include "common/version.h"

namespace nlb {

// NLB_VERSION is set on this file alone (common/CMakeLists.txt), so a new version rebuilds one
// object.
std::string_view NlbVersion() { return NLB_VERSION; }

}  // namespace nlb
