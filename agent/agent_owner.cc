// Agent::Owner: the `owner` control request (docs/control.md), answered by the data path's own
// decision over the snapshot the data path holds now (common/flow_owner.h).
#include "agent/agent.h"
#include "common/control_reply.h"
#include "common/json_writer.h"

namespace nlb::agent {

std::string Agent::Owner(const OwnerQuery& query) const {
  const uint16_t host = config_.host.id;
  const auto snapshot = snapshots_.Load();
  const Result<std::vector<FlowOwner>> owners = FindFlowOwners(*snapshot, query);
  if (!owners.ok()) return ControlRefusal(host, "not_found", owners.status().message());
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(host);
  w.Key("client").String(OwnerRequestWords(query)[1]);
  // A host that is not converged answers from the last map it had; the generation says which.
  w.Key("converged").Bool(convergence_->Report().converged);
  w.Key("map_generation").Uint(snapshot->generation);
  w.Key("owners").BeginArray();
  for (const FlowOwner& o : owners.value()) {
    w.BeginObject();
    if (o.rule.empty()) {
      w.Key("rule").Null();
    } else {
      w.Key("rule").String(o.rule);
    }
    w.Key("vip").String(o.vip.ToString()).Key("port").Uint(o.port);
    w.Key("protocol").String(o.ip_protocol == kIpProtoUdp ? "udp" : "tcp");
    if (o.bucket) {
      w.Key("bucket").Uint(*o.bucket);
    } else {
      w.Key("bucket").Null();
    }
    if (o.owner == kNoHost) {
      w.Key("owner").Null();
    } else {
      w.Key("owner").Uint(o.owner);
    }
    w.Key("reason").String(DecisionReasonName(o.reason)).Key("moving").Bool(o.moving);
    w.Key("port_matters").Bool(o.port_matters);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str();
}

}  // namespace nlb::agent
