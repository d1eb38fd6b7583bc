#include "common/rule_numbering.h"

namespace nlb {

bool RuleRemapBetween(const RuleNumbering& from, const RuleNumbering& to, RuleRemap* old_to_new) {
  old_to_new->fill(kRuleGone);
  bool identity = true;
  // At most 128 x 128 name comparisons, once per reload: no index needed.
  for (size_t r = 0; r < from.names.size() && r < kMaxTrackedRules; ++r) {
    for (size_t n = 0; n < to.names.size() && n < kMaxTrackedRules; ++n) {
      if (to.names[n] == from.names[r]) {
        (*old_to_new)[r] = static_cast<uint8_t>(n);
        break;
      }
    }
    identity &= (*old_to_new)[r] == r;
  }
  return !identity;
}

}  // namespace nlb
