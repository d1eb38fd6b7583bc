#include "agent/run_agent.h"

#include <boost/asio/io_context.hpp>
#include <csignal>
#include <exception>

#include "agent/agent.h"
#include "agent/capabilities.h"
#include "agent/command_line.h"
#include "agent/log.h"
#include "agent/service_notifier.h"
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
  // Before Start: the data path thread it creates inherits this thread's capabilities.
  if (Status s = DropUnneededCapabilities(config->host.data_path != DataPathMode::kCapture);
      !s.ok()) {
    LogError("agent", "refusing to start: " + s.message());
    return kExitFailed;
  }
  try {
    boost::asio::io_context io;
    const std::string cluster = config->cluster.name;
    auto agent = Agent::Start(io, std::move(config.value()));
    if (!agent.ok()) {
      LogError("agent", "refusing to start: " + agent.status().message());
      return kExitFailed;
    }
    // Start has bound the heartbeat and control sockets and set up the data path: ready. The
    // Agent pets the watchdog from its own notifier (agent/service_notifier.h).
    LogInfo("agent", "capabilities " + CurrentCapabilitiesText());
    ServiceNotifier notifier(ServiceNotifierOptionsFromEnvironment());
    (void)notifier.Ready("cluster " + cluster + ": heartbeating");  // a failure is logged
    io.run();
    (void)notifier.Stopping();
    return kExitOk;
  } catch (const std::exception& e) {
    // Asio reports some set-up failures by exception; the agent stops rather than limps on.
    LogError("agent", std::string("stopped by an unexpected error: ") + e.what());
    return kExitFailed;
  }
}

}  // namespace nlb::agent
