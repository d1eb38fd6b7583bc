#include "common/status_json.h"

#include "common/json_writer.h"

namespace nlb {
namespace {

void WriteRule(const RuleStatus& r, JsonWriter& w) {
  w.BeginObject().Key("name").String(r.name).Key("covers").String(r.covers);
  w.Key("mode").String(r.mode).Key("control").String(r.control).Key("enabled").Bool(r.enabled);
  w.Key("single_owner").Uint(r.single_owner).Key("buckets_owned").Uint(r.buckets_owned);
  w.Key("owner_runs").BeginArray();
  for (size_t i = 0; i < r.bucket_owner.size();) {
    size_t j = i;
    while (j < r.bucket_owner.size() && r.bucket_owner[j] == r.bucket_owner[i]) ++j;
    w.BeginArray().Uint(r.bucket_owner[i]).Uint(j - i).EndArray();
    i = j;
  }
  w.EndArray();
  w.Key("moving_buckets").BeginArray();
  for (uint32_t b : r.moving_buckets) w.Uint(b);
  w.EndArray();
  w.Key("accepted_packets").Uint(r.accepted_packets).Key("accepted_bytes").Uint(r.accepted_bytes);
  w.Key("dropped_packets").Uint(r.dropped_packets).Key("dropped_bytes").Uint(r.dropped_bytes);
  w.Key("connections").Uint(r.connections).EndObject();
}

void WriteOptional(const char* key, const std::optional<double>& value, JsonWriter& w) {
  w.Key(key);
  if (value.has_value()) {
    // Microseconds as an integer: JsonWriter has no floating point, and the page wants ms.
    w.Int(static_cast<int64_t>(*value * 1e6));
  } else {
    w.Null();
  }
}

}  // namespace

std::string RenderStatusJson(const HostStatus& s) {
  JsonWriter w;
  w.BeginObject().Key("host").Uint(s.host_id).Key("cluster").String(s.cluster);
  w.Key("version").String(s.version).Key("state").String(s.state);
  w.Key("converged").Bool(s.converged).Key("serving").Bool(s.serving);
  w.Key("default_host").Uint(s.default_host).Key("generation").Uint(s.generation);
  w.Key("uptime_ms").Uint(static_cast<uint64_t>(s.uptime_seconds * 1000));
  w.Key("members").BeginArray();
  for (const MemberStatus& m : s.members) {
    w.BeginObject().Key("id").Uint(m.id).Key("address").String(m.address);
    w.Key("state").String(m.state).Key("health").BeginObject();
    for (const auto& [rule, health] : m.health) w.Key(rule).String(health);
    w.EndObject().EndObject();
  }
  w.EndArray().Key("kept_out").BeginArray();
  for (const KeptOutStatus& k : s.kept_out) {
    w.BeginObject().Key("id").Uint(k.id).Key("address").String(k.address);
    w.Key("reason").String(k.reason).EndObject();
  }
  w.EndArray().Key("rules").BeginArray();
  for (const RuleStatus& r : s.rules) WriteRule(r, w);
  w.EndArray();
  uint64_t accepted = 0;
  uint64_t accepted_bytes = 0;
  for (const ReasonCount& r : s.reasons) {
    if (!r.accepted) continue;
    accepted += r.packets;
    accepted_bytes += r.bytes;
  }
  w.Key("load").BeginObject().Key("accepted_packets").Uint(accepted);
  w.Key("accepted_bytes").Uint(accepted_bytes).Key("connections").Uint(s.connections);
  w.Key("connection_capacity").Uint(s.connection_capacity).EndObject();
  w.Key("convergence").BeginObject().Key("count").Uint(s.convergences);
  w.Key("last_cause").String(s.last_convergence_cause).EndObject();
  WriteOptional("loop_lag_us", s.loop_lag_seconds, w);
  w.Key("data_path").String(s.data_path);
  w.Key("kernel_update_us").Int(static_cast<int64_t>(s.kernel_update_seconds * 1e6));
  w.Key("health").BeginArray();
  for (const HealthCheckReport& c : s.health) {
    w.BeginObject().Key("rule").String(c.rule).Key("kind").String(c.kind);
    w.Key("healthy").Bool(c.healthy);
    w.Key("latency_us").Int(static_cast<int64_t>(c.last_latency_seconds * 1e6));
    w.Key("successes").Uint(c.successes).Key("failures").Uint(c.failures).EndObject();
  }
  w.EndArray().Key("errors").BeginObject();
  for (const ErrorCount& e : s.errors) w.Key(e.name).Uint(e.count);
  w.EndObject().Key("events").BeginArray();
  for (const std::string& e : s.events) w.String(e);
  w.EndArray().EndObject();
  return w.str();
}

}  // namespace nlb
