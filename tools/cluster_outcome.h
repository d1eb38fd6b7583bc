// ClusterOutcome: the pieces of `nlbctl --cluster`: which hosts a query reply names, and how the
// per-host outcomes read as one table, one JSON array and one exit status. Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/control_exit_code.h"
#include "common/ip_address.h"
#include "common/status.h"
#include "tools/control_exchange.h"

namespace nlb {

struct ClusterHost {
  std::string id;               // as the reply writes it
  IpAddress address;            // its dedicated address, where its remote control channel listens
  std::string kept_out_reason;  // non-empty for a host the cluster keeps out
};

// Every member, then every kept-out host, of a successful `query` reply. kMalformed when the
// reply lacks "members" or a host lacks a readable "id" or "address".
Result<std::vector<ClusterHost>> ClusterHostsFromQuery(std::string_view json);

struct HostOutcome {
  ClusterHost host;
  ControlExit exit = ControlExit::kOk;
  std::string summary;  // "ok", or "refused: host is suspended", "unreachable: ..."
  std::string json;     // the raw reply, or an object nlbctl wrote for a transport failure
};

HostOutcome OutcomeOf(const ClusterHost& host, std::string_view command,
                      const ExchangeResult& exchange);

// HOST / ADDRESS / RESULT table, or (json) a JSON array of the outcomes' objects, one line.
std::string RenderClusterOutcomes(const std::vector<HostOutcome>& outcomes, bool json);

// kOk when every host succeeded; otherwise the exit status of the first host that did not.
ControlExit ClusterExit(const std::vector<HostOutcome>& outcomes);

}  // namespace nlb
