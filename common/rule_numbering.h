// RuleNumbering: which rule each index of a map snapshot means. The descriptor table keys its
// flows by rule index, so when a reload renumbers the rules (docs/connection-tracking.md,
// "Reloads that renumber a rule") the data path, the table's only writer, renumbers the table by
// name before it decides by a snapshot of the new numbering. The control side builds a new
// RuleNumbering (next epoch) whenever the list of rule names changes; it is immutable once built.
// Pure; RuleRemapBetween allocates nothing, so the data path thread may call it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/descriptor_table.h"

namespace nlb {

struct RuleNumbering {
  uint64_t epoch = 0;              // increases whenever the names change
  std::vector<std::string> names;  // canonical rule order: names[i] is rule index i
};

// old_to_new[r]: the new index of the rule that had index r, or kRuleGone.
inline constexpr uint8_t kRuleGone = 0xff;
using RuleRemap = std::array<uint8_t, kMaxTrackedRules>;

// The remap from `from`'s indices to `to`'s, matching rules by name. Indices with no rule in
// `from`, rules absent from `to`, and rules past kMaxTrackedRules in `to` map to kRuleGone.
// Returns true when it is not the identity (the table has something to do).
bool RuleRemapBetween(const RuleNumbering& from, const RuleNumbering& to, RuleRemap* old_to_new);

}  // namespace nlb
