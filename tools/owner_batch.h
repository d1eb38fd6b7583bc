// OwnerBatch: `nlbctl owner --flows FILE`, the owner of many flows in one nlbctl run. FILE (or
// standard input for "-") holds one flow per line, in owner's own words: CLIENT[:PORT]
// [VIP:PORT] [tcp|udp]; blank lines and lines starting with '#' are skipped. Each flow is one
// `owner` request to the same agent (a process start per flow cost up to a second on a busy
// machine; a request over the local socket costs well under a millisecond). Call from one
// thread; blocking.
#pragma once

#include <chrono>
#include <istream>
#include <ostream>
#include <string>

#include "tools/control_exchange.h"

namespace nlb {

struct OwnerBatchOptions {
  std::string protocol;  // --protocol, added to a line that names none; "" for none
  bool json = false;     // one reply per line (JSON Lines) instead of a table
  std::chrono::milliseconds timeout{3000};  // per request
};

// Asks target about every flow of `flows`. Text: one row per owner entry (FLOW, VIP:PORT, RULE,
// BUCKET, OWNER, REASON). A line that is not a flow is named on err by its number and skipped;
// the run goes on. Returns the exit status (docs/control.md): 0 when every line was answered,
// else the first failure's (2 for a bad line; an unreachable agent ends the run at once).
int RunOwnerBatch(std::istream& flows, const OwnerBatchOptions& options,
                  const ControlTarget& target, std::ostream& out, std::ostream& err);
// The same, reading the file at path ("-": standard input); 2 when it cannot be read.
int RunOwnerBatch(const std::string& path, const OwnerBatchOptions& options,
                  const ControlTarget& target, std::ostream& out, std::ostream& err);

}  // namespace nlb
