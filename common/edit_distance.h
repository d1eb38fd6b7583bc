// EditDistance: the Levenshtein distance between two words, for "did you mean" suggestions in
// configuration errors and control requests. Pure; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace nlb {

size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace nlb
