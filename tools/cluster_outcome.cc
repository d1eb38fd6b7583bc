#include "tools/cluster_outcome.h"

#include "common/json_writer.h"
#include "tools/json_reply.h"
#include "tools/reply_view.h"

namespace nlb {
namespace {

Status Malformed(std::string why) {
  return Status::Error(ErrorCode::kMalformed, "the query reply " + std::move(why));
}

Status AddHosts(const Json* list, std::string_view field, bool kept_out,
                std::vector<ClusterHost>* hosts) {
  if (list == nullptr || !list->is_array())
    return Malformed("has no list \"" + std::string(field) + "\"");
  for (const Json& item : *list) {
    const Json* id = JsonField(item, "id");
    const Json* address_field = JsonField(item, "address");
    if (id == nullptr || id->is_structured() || id->is_null() || address_field == nullptr ||
        !address_field->is_string()) {
      return Malformed("lists a host in \"" + std::string(field) + "\" without id and address");
    }
    const std::string id_text = JsonCellText(*id);
    const std::string address_text = address_field->get<std::string>();
    const std::optional<IpAddress> address = IpAddress::Parse(address_text);
    if (!address) {
      return Malformed("gives host " + id_text + " the address '" + address_text + "'");
    }
    ClusterHost host{id_text, *address, ""};
    if (kept_out) host.kept_out_reason = JsonFieldText(item, "reason", "kept out");
    hosts->push_back(std::move(host));
  }
  return Status::Ok();
}

// A table cell: an error of several lines (a configuration's errors) on one.
std::string OneLine(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

}  // namespace

Result<std::vector<ClusterHost>> ClusterHostsFromQuery(std::string_view json) {
  std::vector<ClusterHost> hosts;
  const std::optional<Json> root = ParseJson(json);
  if (!root) return Malformed("is not JSON: " + std::string(json.substr(0, 200)));
  if (!root->is_object()) return Malformed("is not a JSON object");
  if (Status s = AddHosts(JsonField(*root, "members"), "members", false, &hosts); !s.ok()) return s;
  if (const Json* kept_out = JsonField(*root, "kept_out"); kept_out != nullptr) {
    if (Status s = AddHosts(kept_out, "kept_out", true, &hosts); !s.ok()) return s;
  }
  return hosts;
}

HostOutcome OutcomeOf(const ClusterHost& host, std::string_view command,
                      const ExchangeResult& exchange) {
  HostOutcome outcome;
  outcome.host = host;
  if (!exchange.replied()) {
    outcome.exit = exchange.transport;
    outcome.summary =
        OneLine(std::string(ControlExitWord(exchange.transport)) + ": " + exchange.error);
    JsonWriter w;
    w.BeginObject().Key("ok").Bool(false).Key("host").String(host.id);
    w.Key("address").String(host.address.ToString());
    w.Key("code").String(ControlExitWord(exchange.transport)).Key("error").String(exchange.error);
    w.EndObject();
    outcome.json = w.str();
    return outcome;
  }
  const ReplyView view = ViewReply(command, exchange.reply);
  outcome.exit = view.exit;
  outcome.summary = view.exit == ControlExit::kOk
                        ? "ok"
                        : OneLine(std::string(ControlExitWord(view.exit)) + ": " + view.error);
  outcome.json = exchange.reply;
  return outcome;
}

std::string RenderClusterOutcomes(const std::vector<HostOutcome>& outcomes, bool json) {
  if (json) {
    std::string out = "[";
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (i > 0) out += ",";
      out += outcomes[i].json;
    }
    return out + "]\n";
  }
  std::vector<std::vector<std::string>> rows = {{"HOST", "ADDRESS", "RESULT"}};
  for (const HostOutcome& o : outcomes) {
    std::string result = o.summary;
    if (!o.host.kept_out_reason.empty()) result += " (kept out: " + o.host.kept_out_reason + ")";
    rows.push_back({o.host.id, o.host.address.ToString(), result});
  }
  return FormatTable(rows, "");
}

ControlExit ClusterExit(const std::vector<HostOutcome>& outcomes) {
  for (const HostOutcome& o : outcomes) {
    if (o.exit != ControlExit::kOk) return o.exit;
  }
  return ControlExit::kOk;
}

}  // namespace nlb
