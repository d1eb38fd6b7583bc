// The nlb version, from CMake's project(VERSION) (nlbd --version, nlbctl --version). Pure.
#pragma once

#include <string_view>

namespace nlb {

// "0.1.0"
std::string_view NlbVersion();

}  // namespace nlb
