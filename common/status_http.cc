#include "common/status_http.h"

#include "common/metrics_page.h"
#include "common/status_json.h"

namespace nlb {
namespace {

HttpAnswer Text(int status, std::string body) {
  return HttpAnswer{status, "text/plain; charset=utf-8", std::move(body), false};
}

}  // namespace

HttpAnswer AnswerHttp(std::string_view method, std::string_view target,
                      const StatusSource& source) {
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    return Text(405, "method not allowed: this listener is read-only (GET, HEAD)\n");
  }
  const std::string_view path = target.substr(0, target.find('?'));
  HttpAnswer answer;
  if (path == "/metrics") {
    Result<std::string> text = RenderMetrics(source.CurrentStatus());
    if (!text.ok()) return Text(500, text.status().ToString() + "\n");
    answer = HttpAnswer{200, kMetricsContentType, std::move(text.value()), false};
  } else if (path == "/status.json") {
    answer = HttpAnswer{200, "application/json", RenderStatusJson(source.CurrentStatus()), false};
  } else if (path == "/" || path == "/index.html") {
    answer = HttpAnswer{200, "text/html; charset=utf-8", std::string(StatusPageHtml()), false};
  } else {
    answer = Text(404, "not found: this listener serves /, /status.json and /metrics\n");
  }
  answer.head_only = head;
  return answer;
}

}  // namespace nlb
