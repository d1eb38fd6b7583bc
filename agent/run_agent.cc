#include "agent/run_agent.h"

#include <boost/asio/io_context.hpp>
#include <csignal>
#include <exception>

#include "agent/agent.h"
#include "agent/command_line.h"
#include "agent/log.h"
#include "config/config_loader.h"

namespace nlb::agent {

int RunAgent(const std::string& config_path) {
  // A peer or a child (nft) that goes away mid-write must give an error, not kill the agent.
  std::signal(SIGPIPE, SIG_IGN);
  auto config = LoadConfigFile(config_path);
  if (!config.ok()) {
    LogError("config", "refusing to start: " + config.status().message());
    return kExitConfigInvalid;
  }
  try {
    boost::asio::io_context io;
    auto agent = Agent::Start(io, std::move(config.value()));
    if (!agent.ok()) {
      LogError("agent", "refusing to start: " + agent.status().message());
      return kExitFailed;
    }
    io.run();
    return kExitOk;
  } catch (const std::exception& e) {
    // Asio reports some set-up failures by exception; the agent stops rather than limps on.
    LogError("agent", std::string("stopped by an unexpected error: ") + e.what());
    return kExitFailed;
  }
}

}  // namespace nlb::agent
