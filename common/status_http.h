// What the agent's read-only HTTP listener answers (docs/operations.md): GET or HEAD of
// /metrics (Prometheus text), /status.json (common/status_json.h) and / (the status page);
// 405 with "Allow: GET, HEAD" for every other method, 404 for every other path. Pure: the
// listener (agent/http_server.h) does the I/O and calls this on the agent's loop thread.
#pragma once

#include <string>
#include <string_view>

#include "common/host_status.h"

namespace nlb {

struct HttpAnswer {
  int status = 200;
  std::string content_type;
  std::string body;        // for HEAD: still the body whose length the reply announces
  bool head_only = false;  // HEAD: send the headers of body, not body
};

// target: the request target as received ("/metrics?x=1" answers as "/metrics").
HttpAnswer AnswerHttp(std::string_view method, std::string_view target, const StatusSource& source);

// The status page: one self-contained HTML document (no external resources).
std::string_view StatusPageHtml();

}  // namespace nlb
