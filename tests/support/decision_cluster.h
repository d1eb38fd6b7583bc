// DecisionCluster: the decision tables' three-host cluster (tests/support/decision_table.h) seen
// from each host at once, for tests of Decide() that ask what the whole cluster does with a frame
// (who accepts it, and whether the hosts agree). Also prints verdicts and reasons by name in gtest
// failures. Single-threaded test helper.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "common/decision.h"
#include "tests/support/decision_table.h"

namespace nlb {

inline void PrintTo(Verdict v, std::ostream* os) { *os << VerdictName(v); }
inline void PrintTo(DecisionReason r, std::ostream* os) { *os << DecisionReasonName(r); }

namespace test {

struct DecisionCluster {
  std::vector<MapSnapshot> hosts;
  DecisionCluster() {
    for (uint16_t h = 1; h <= decision_table::kHosts; ++h) {
      hosts.push_back(decision_table::Snapshot(h));
    }
  }
  // Host h's decision at index h - 1.
  std::vector<Decision> DecideAll(const std::vector<uint8_t>& frame) const {
    std::vector<Decision> out;
    for (const MapSnapshot& s : hosts) {
      ParsedPacket packet;
      out.push_back(Decide(frame, s, &packet));
    }
    return out;
  }
  // The host ids that accepted.
  std::vector<uint16_t> Accepting(const std::vector<uint8_t>& frame) const {
    std::vector<uint16_t> out;
    const std::vector<Decision> all = DecideAll(frame);
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].verdict == Verdict::kAccept) out.push_back(static_cast<uint16_t>(i + 1));
    }
    return out;
  }
};

}  // namespace test
}  // namespace nlb
