#include "tools/owner_batch.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "common/flow_owner.h"
#include "tools/json_reply.h"
#include "tools/reply_view.h"

namespace nlb {
namespace {

int Exit(ControlExit e) { return static_cast<int>(e); }

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The rows of one owner reply: FLOW, VIP:PORT/PROTOCOL, RULE, BUCKET, OWNER, REASON.
void AddRows(const std::string& flow, const Json& reply,
             std::vector<std::vector<std::string>>* rows) {
  const Json* owners = JsonField(reply, "owners");
  if (owners == nullptr || !owners->is_array()) return;
  for (const Json& o : *owners) {
    rows->push_back({flow,
                     JsonFieldText(o, "vip", "-") + ":" + JsonFieldText(o, "port", "-") + "/" +
                         JsonFieldText(o, "protocol", "-"),
                     JsonFieldText(o, "rule", "-"), JsonFieldText(o, "bucket", "-"),
                     JsonFieldText(o, "owner", "-"), JsonFieldText(o, "reason", "-")});
  }
}

}  // namespace

int RunOwnerBatch(std::istream& flows, const OwnerBatchOptions& options,
                  const ControlTarget& target, std::ostream& out, std::ostream& err) {
  int status = Exit(ControlExit::kOk);
  auto note_failure = [&status](ControlExit e) {
    if (status == Exit(ControlExit::kOk)) status = Exit(e);
  };
  std::vector<std::vector<std::string>> rows = {
      {"FLOW", "VIP:PORT", "RULE", "BUCKET", "OWNER", "REASON"}};
  std::string line;
  for (size_t number = 1; std::getline(flows, line); ++number) {
    std::vector<std::string> words = Words(line);
    if (words.empty() || words[0].front() == '#') continue;
    if (!options.protocol.empty() && words.size() < 3 && words.back() != "tcp" &&
        words.back() != "udp") {
      words.push_back(options.protocol);
    }
    const Result<OwnerQuery> query = ParseOwnerQuery(words);
    if (!query.ok()) {
      err << "nlbctl: flows line " << number << ": " << query.status().message() << "\n";
      note_failure(ControlExit::kInvalid);
      continue;
    }
    std::string request;
    for (const std::string& w : OwnerRequestWords(query.value())) {
      request += (request.empty() ? "" : " ") + w;
    }
    const ExchangeResult exchange = ExchangeControlRequest(target, request, options.timeout);
    if (!exchange.replied()) {
      // The agent itself is gone or stuck: every later flow would wait the same timeout.
      err << "nlbctl: flows line " << number << ": " << exchange.error << "\n";
      return Exit(exchange.transport);
    }
    const ReplyView view = ViewReply("owner", exchange.reply);
    if (view.exit != ControlExit::kOk) {
      err << "nlbctl: flows line " << number << ": " << view.text;
      note_failure(view.exit);
    }
    if (options.json) {
      out << exchange.reply << "\n";
    } else if (const std::optional<Json> reply = ParseJson(exchange.reply);
               reply && view.exit == ControlExit::kOk) {
      AddRows(words[0], *reply, &rows);
    }
  }
  if (!options.json) out << FormatTable(rows, "");
  return status;
}

int RunOwnerBatch(const std::string& path, const OwnerBatchOptions& options,
                  const ControlTarget& target, std::ostream& out, std::ostream& err) {
  if (path == "-") return RunOwnerBatch(std::cin, options, target, out, err);
  std::ifstream file(path);
  if (!file) {
    err << "nlbctl: cannot read flows from " << path << "\n";
    return Exit(ControlExit::kInvalid);
  }
  return RunOwnerBatch(file, options, target, out, err);
}

}  // namespace nlb
