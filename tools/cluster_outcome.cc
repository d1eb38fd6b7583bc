#include "tools/cluster_outcome.h"

#include <yaml-cpp/yaml.h>

#include "common/json_writer.h"
#include "tools/reply_view.h"

namespace nlb {
namespace {

Status Malformed(std::string why) {
  return Status::Error(ErrorCode::kMalformed, "the query reply " + std::move(why));
}

Status AddHosts(const YAML::Node& list, std::string_view field, bool kept_out,
                std::vector<ClusterHost>* hosts) {
  if (!list.IsDefined() || !list.IsSequence())
    return Malformed("has no list \"" + std::string(field) + "\"");
  for (const YAML::Node& item : list) {
    if (!item.IsMap() || !item["id"] || !item["id"].IsScalar() || !item["address"] ||
        !item["address"].IsScalar()) {
      return Malformed("lists a host in \"" + std::string(field) + "\" without id and address");
    }
    const std::optional<IpAddress> address = IpAddress::Parse(item["address"].Scalar());
    if (!address) {
      return Malformed("gives host " + item["id"].Scalar() + " the address '" +
                       item["address"].Scalar() + "'");
    }
    ClusterHost host{item["id"].Scalar(), *address, ""};
    if (kept_out) {
      host.kept_out_reason = item["reason"] && item["reason"].IsScalar() ? item["reason"].Scalar()
                                                                         : std::string("kept out");
    }
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
  try {
    const YAML::Node root = YAML::Load(std::string(json));
    if (!root.IsMap()) return Malformed("is not a JSON object");
    if (Status s = AddHosts(root["members"], "members", false, &hosts); !s.ok()) return s;
    if (root["kept_out"]) {
      if (Status s = AddHosts(root["kept_out"], "kept_out", true, &hosts); !s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return Malformed(std::string("is not JSON: ") + e.what());
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
