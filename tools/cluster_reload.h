// ClusterReload: the check phase of `nlbctl reload --cluster` (docs/control.md "Reloading a
// cluster"). Every host first answers `reload-check`; the reload goes ahead only when every host
// would accept its file and every host's new cluster digest is the same, so that no host switches
// to rules that the others will not switch to. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "common/control_exit_code.h"
#include "tools/cluster_outcome.h"

namespace nlb {

struct ReloadCheckVerdict {
  bool proceed = false;
  std::string digest;  // proceed: the new cluster digest every host reported
  // !proceed: the first host's status that refused (in outcome order), else kInvalid for files
  // whose cluster sections differ.
  ControlExit exit = ControlExit::kOk;
  std::string reason;              // !proceed: one sentence saying why nothing was changed
  std::vector<std::string> notes;  // one per check outcome, same order: what that host said
};

// checks: the hosts' outcomes of `reload-check`. An empty list never proceeds.
ReloadCheckVerdict JudgeReloadChecks(const std::vector<HostOutcome>& checks);

// HOST / ADDRESS / CHECK table of the notes.
std::string RenderReloadChecks(const std::vector<HostOutcome>& checks,
                               const ReloadCheckVerdict& verdict);

// One JSON object, one line: {"ok","digest"?,"error"?,"checks":[replies],"reloads":[replies]?}.
// reloads is nullptr when the reload was aborted after the checks.
std::string ClusterReloadJson(const std::vector<HostOutcome>& checks,
                              const ReloadCheckVerdict& verdict,
                              const std::vector<HostOutcome>* reloads);

}  // namespace nlb
