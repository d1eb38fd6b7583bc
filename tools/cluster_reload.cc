#include "tools/cluster_reload.h"

#include "common/json_writer.h"
#include "tools/json_reply.h"
#include "tools/reply_view.h"

namespace nlb {
namespace {

constexpr size_t kShortDigest = 12;

struct Digests {
  std::string next;
  std::string running;
};

// The digests of a successful reload-check reply; empty next when the reply lacks one.
Digests ReadDigests(const std::string& json) {
  Digests d;
  const std::optional<Json> root = ParseJson(json);
  if (!root) return d;
  if (const Json* next = JsonField(*root, "digest"); next != nullptr && next->is_string()) {
    d.next = next->get<std::string>();
  }
  if (const Json* running = JsonField(*root, "running_digest");
      running != nullptr && running->is_string()) {
    d.running = running->get<std::string>();
  }
  return d;
}

std::string Short(const std::string& digest) { return digest.substr(0, kShortDigest); }

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out = ids.size() == 1 ? "host " : "hosts ";
  for (size_t i = 0; i < ids.size(); ++i) out += (i > 0 ? ", " : "") + ids[i];
  return out;
}

}  // namespace

ReloadCheckVerdict JudgeReloadChecks(const std::vector<HostOutcome>& checks) {
  ReloadCheckVerdict v;
  std::vector<std::string> refusing;
  std::vector<std::string> differing;
  std::string reference_host;
  for (const HostOutcome& o : checks) {
    if (o.exit != ControlExit::kOk) {
      v.notes.push_back(o.summary);
      if (refusing.empty()) v.exit = o.exit;
      refusing.push_back(o.host.id);
      continue;
    }
    const Digests d = ReadDigests(o.json);
    if (d.next.empty()) {
      v.notes.push_back("internal: the reload-check reply has no digest (an older nlbd?)");
      if (refusing.empty()) v.exit = ControlExit::kInternal;
      refusing.push_back(o.host.id);
      continue;
    }
    std::string note = "ok: new digest " + Short(d.next);
    note += d.next == d.running ? " (same as running)" : " (running " + Short(d.running) + ")";
    if (v.digest.empty()) {
      v.digest = d.next;
      reference_host = o.host.id;
    } else if (d.next != v.digest) {
      note += ", differs from host " + reference_host + "'s " + Short(v.digest);
      differing.push_back(o.host.id);
    }
    v.notes.push_back(std::move(note));
  }
  if (checks.empty()) {
    v.exit = ControlExit::kInternal;
    v.reason = "the cluster lists no host to reload";
  } else if (!refusing.empty() || !differing.empty()) {
    if (refusing.empty()) v.exit = ControlExit::kInvalid;
    std::string why;
    if (!refusing.empty()) why = JoinIds(refusing) + " would not reload";
    if (!differing.empty()) {
      why += (why.empty() ? "" : "; ") + JoinIds(differing) +
             " would switch to another cluster section than host " + reference_host +
             " (the files differ)";
    }
    v.reason = "reload --cluster aborted, no host was changed: " + why;
  } else {
    v.proceed = true;
    return v;
  }
  v.digest.clear();
  return v;
}

std::string RenderReloadChecks(const std::vector<HostOutcome>& checks,
                               const ReloadCheckVerdict& verdict) {
  std::vector<std::vector<std::string>> rows = {{"HOST", "ADDRESS", "CHECK"}};
  for (size_t i = 0; i < checks.size(); ++i) {
    rows.push_back({checks[i].host.id, checks[i].host.address.ToString(),
                    i < verdict.notes.size() ? verdict.notes[i] : ""});
  }
  return FormatTable(rows, "");
}

std::string ClusterReloadJson(const std::vector<HostOutcome>& checks,
                              const ReloadCheckVerdict& verdict,
                              const std::vector<HostOutcome>* reloads) {
  bool ok = verdict.proceed && reloads != nullptr;
  if (reloads != nullptr) {
    for (const HostOutcome& o : *reloads) ok &= o.exit == ControlExit::kOk;
  }
  // Each outcome's json is already one JSON object; JsonWriter has no raw-value call.
  std::string out;
  {
    JsonWriter w;
    w.BeginObject().Key("ok").Bool(ok);
    if (verdict.proceed) w.Key("digest").String(verdict.digest);
    if (!verdict.proceed) w.Key("error").String(verdict.reason);
    w.EndObject();
    out = w.str();
    out.pop_back();  // the closing brace: the lists follow
  }
  const auto append_list = [&out](const char* name, const std::vector<HostOutcome>& list) {
    out += ",\"";
    out += name;
    out += "\":[";
    for (size_t i = 0; i < list.size(); ++i) out += (i > 0 ? "," : "") + list[i].json;
    out += "]";
  };
  append_list("checks", checks);
  if (reloads != nullptr) append_list("reloads", *reloads);
  return out + "}\n";
}

}  // namespace nlb
