// The agent's GET /metrics: a HostStatus rendered in the Prometheus text format. Every metric
// name, type and meaning is listed in docs/operations.md; a test keeps the two in step.
// Pure; call from any thread with a HostStatus of its own.
#pragma once

#include <string>

#include "common/host_status.h"
#include "common/status.h"

namespace nlb {

// The content type Prometheus expects for this format.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// An error only when the renderer itself is broken (a bad metric name): tests catch that.
Result<std::string> RenderMetrics(const HostStatus& status);

}  // namespace nlb
