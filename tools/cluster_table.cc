#include "tools/cluster_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tools/json_reply.h"
#include "tools/reply_view.h"

namespace nlb {
namespace {

// The parsed reply of a host that answered ok, else nullopt.
std::optional<Json> OkReply(const HostOutcome& outcome) {
  if (outcome.exit != ControlExit::kOk) return std::nullopt;
  return ParseJson(outcome.json);
}

std::optional<uint64_t> Accepted(const HostOutcome& report) {
  const std::optional<Json> reply = OkReply(report);
  if (!reply) return std::nullopt;
  const Json* packets = JsonField(*reply, "packets");
  return packets == nullptr ? std::nullopt : JsonFieldUint(*packets, "accepted");
}

const HostSample* SampleOf(const std::vector<HostSample>& samples, const std::string& id) {
  for (const HostSample& s : samples) {
    if (s.query.host.id == id) return &s;
  }
  return nullptr;
}

// The report's rules array, or nullptr.
const Json* Rules(const std::optional<Json>& report) {
  if (!report) return nullptr;
  const Json* rules = JsonField(*report, "rules");
  return rules != nullptr && rules->is_array() ? rules : nullptr;
}

// A rule's health as a word: the field itself when a string, its "state" when an object.
std::optional<std::string> HealthWord(const Json& rule) {
  const Json* health = JsonField(rule, "health");
  if (health == nullptr || health->is_null()) return std::nullopt;
  if (health->is_object()) {
    const Json* state = JsonField(*health, "state");
    if (state == nullptr) return std::nullopt;
    return JsonCellText(*state);
  }
  return JsonCellText(*health);
}

// A reply's top-level "health" list of checks ({"rule", "status", "verdict"}), as
// "rule=verdict,..." (what the check makes the host do: serve, drain, fail-open; its status when
// a reply has no verdict): the report's, else the query's. "" when neither has one.
std::string HealthList(const Json* report, const Json* query) {
  for (const Json* reply : {report, query}) {
    const Json* list = reply == nullptr ? nullptr : JsonField(*reply, "health");
    if (list == nullptr || !list->is_array() || list->empty()) continue;
    std::string text;
    for (const Json& check : *list) {
      text += (text.empty() ? "" : ",") + JsonFieldText(check, "rule", "?") + "=" +
              JsonFieldText(check, "verdict", JsonFieldText(check, "status", "-"));
    }
    return text;
  }
  return "";
}

std::string RateText(const std::optional<double>& rate) {
  if (!rate) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", *rate);
  return text;
}

uint64_t SumOfCounters(const Json& object) {
  uint64_t sum = 0;
  for (const auto& [key, value] : object.items()) {
    if (value.is_number_unsigned()) sum += value.get<uint64_t>();
    if (value.is_object()) sum += SumOfCounters(value);
  }
  return sum;
}

// A host that did not answer a request: why, on one cell.
std::string Failure(const HostOutcome& outcome) { return outcome.summary; }

}  // namespace

std::optional<double> AcceptedPerSecond(const HostSample& before, const HostSample& now) {
  const std::optional<uint64_t> a = Accepted(before.report);
  const std::optional<uint64_t> b = Accepted(now.report);
  const double seconds = std::chrono::duration<double>(now.at - before.at).count();
  if (!a || !b || *b < *a || seconds <= 0) return std::nullopt;
  return static_cast<double>(*b - *a) / seconds;
}

std::string RenderClusterTable(ClusterTableKind kind, const std::vector<HostSample>& now,
                               const std::vector<HostSample>& before) {
  // Rule columns in the order the hosts list them; the cluster digest makes them equal, but a
  // host mid-reload may differ, so every name any host gives gets a column.
  std::vector<std::string> rule_names;
  for (const HostSample& s : now) {
    const std::optional<Json> report = OkReply(s.report);
    if (const Json* rules = Rules(report); rules != nullptr) {
      for (const Json& rule : *rules) {
        const std::string name = JsonFieldText(rule, "name", "?");
        if (std::find(rule_names.begin(), rule_names.end(), name) == rule_names.end()) {
          rule_names.push_back(name);
        }
      }
    }
  }
  std::vector<std::string> heading = {"HOST", "ADDRESS", "STATE"};
  for (const std::string& name : rule_names) heading.push_back("BUCKETS " + name);
  for (const char* column : {"CONNS", "PKTS/S", "HEALTH"}) heading.emplace_back(column);
  if (kind == ClusterTableKind::kReport) {
    for (const char* column : {"ACCEPTED", "DROPPED", "ERRORS"}) heading.emplace_back(column);
  }
  std::vector<std::vector<std::string>> rows = {heading};
  for (const HostSample& s : now) {
    std::vector<std::string> row = {s.query.host.id, s.query.host.address.ToString()};
    const std::optional<Json> query = OkReply(s.query);
    std::string state = query ? JsonFieldText(*query, "state", "-") : Failure(s.query);
    if (!s.query.host.kept_out_reason.empty() && query) {
      state += " (kept out: " + s.query.host.kept_out_reason + ")";
    }
    const std::optional<Json> report = OkReply(s.report);
    if (query && s.report.exit != ControlExit::kOk) state += " (report " + Failure(s.report) + ")";
    row.push_back(state);
    const Json* rules = Rules(report);
    std::string health;
    for (const std::string& name : rule_names) {
      std::string cell = "-";
      if (rules != nullptr) {
        for (const Json& rule : *rules) {
          if (JsonFieldText(rule, "name", "?") != name) continue;
          cell = JsonFieldText(rule, "buckets_owned", "-");
          if (const std::optional<std::string> word = HealthWord(rule)) {
            health += (health.empty() ? "" : ",") + name + "=" + *word;
          }
        }
      }
      row.push_back(cell);
    }
    const Json* connections = report ? JsonField(*report, "connections") : nullptr;
    row.push_back(connections != nullptr ? JsonFieldText(*connections, "tracked", "-") : "-");
    const HostSample* earlier = SampleOf(before, s.query.host.id);
    row.push_back(earlier == nullptr ? "-" : RateText(AcceptedPerSecond(*earlier, s)));
    if (health.empty()) health = HealthList(report ? &*report : nullptr, query ? &*query : nullptr);
    row.push_back(health.empty() ? "-" : health);
    if (kind == ClusterTableKind::kReport) {
      if (!report) {
        row.insert(row.end(), 3, "-");
      } else {
        const Json* packets = JsonField(*report, "packets");
        row.push_back(packets != nullptr ? JsonFieldText(*packets, "accepted", "-") : "-");
        row.push_back(packets != nullptr ? JsonFieldText(*packets, "dropped", "-") : "-");
        const Json* errors = JsonField(*report, "errors");
        row.push_back(errors != nullptr ? std::to_string(SumOfCounters(*errors)) : "-");
      }
    }
    rows.push_back(std::move(row));
  }
  return FormatTable(rows, "");
}

std::string ClusterTableJson(const std::vector<HostSample>& now,
                             const std::vector<HostSample>& before) {
  Json hosts = Json::array();
  for (const HostSample& s : now) {
    Json host = Json::object();
    host["id"] = s.query.host.id;
    host["address"] = s.query.host.address.ToString();
    if (!s.query.host.kept_out_reason.empty()) host["kept_out"] = s.query.host.kept_out_reason;
    const std::optional<Json> query = ParseJson(s.query.json);
    const std::optional<Json> report = ParseJson(s.report.json);
    host["query"] = query ? *query : Json(s.query.json);
    host["report"] = report ? *report : Json(s.report.json);
    const HostSample* earlier = SampleOf(before, s.query.host.id);
    const std::optional<double> rate =
        earlier == nullptr ? std::nullopt : AcceptedPerSecond(*earlier, s);
    host["accepted_per_second"] =
        rate ? Json(static_cast<uint64_t>(std::llround(*rate))) : Json(nullptr);
    hosts.push_back(std::move(host));
  }
  return hosts.dump() + "\n";
}

ControlExit ClusterTableExit(const std::vector<HostSample>& now) {
  for (const HostSample& s : now) {
    if (s.query.exit != ControlExit::kOk) return s.query.exit;
    if (s.report.exit != ControlExit::kOk) return s.report.exit;
  }
  return ControlExit::kOk;
}

}  // namespace nlb
