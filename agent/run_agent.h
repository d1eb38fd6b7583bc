// RunAgent: `nlbd --config FILE`: loads and checks the configuration, starts the Agent and runs
// its event loop until SIGTERM or SIGINT. Returns the process exit status. Main thread only.
#pragma once

#include <string>

namespace nlb::agent {

int RunAgent(const std::string& config_path);

}  // namespace nlb::agent
