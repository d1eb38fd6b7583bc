// The agent's GET /status.json: a HostStatus as one JSON document, read by the status page
// (common/status_page.html). Bucket owners go as runs, [[owner, count], ...] in bucket order,
// so a 16384-bucket map is a few hundred bytes. Pure; any thread with a HostStatus of its own.
#pragma once

#include <string>

#include "common/host_status.h"

namespace nlb {

std::string RenderStatusJson(const HostStatus& status);

}  // namespace nlb
