// ReplyView: an agent's JSON reply (docs/control.md) as the exit status nlbctl returns and the
// readable text it prints. JSON is read with nlohmann-json (tools/json_reply.h); its
// errors stop here. Pure; any thread.
//
// The text is generic, so new reply fields show without a new nlbctl: a first line
// "host 1: query ok", then the reply's scalars as aligned "name  value" lines (nested objects
// flattened to dotted names), then each array of objects as a table whose columns are the
// objects' fields in first-seen order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/control_exit_code.h"

namespace nlb {

struct ReplyView {
  ControlExit exit = ControlExit::kOk;  // from "ok" and "code"
  std::string host;                     // the reply's "host", "" when absent
  std::string error;                    // a refusal's "error" ("" when ok)
  std::string text;                     // the readable rendering (for refusals: one line)
};

// A reply that is not a JSON object with a boolean "ok" gives exit kInternal and says so.
ReplyView ViewReply(std::string_view command, std::string_view json);

// Rows of cells as columns two spaces apart, each row one line; the first row is the heading.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows, std::string_view indent);

}  // namespace nlb
