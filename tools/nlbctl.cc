#include "tools/nlbctl.h"

#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/control_psk.h"
#include "common/control_socket_path.h"
#include "config/cluster_key.h"
#include "tools/cluster_key_writer.h"
#include "tools/cluster_outcome.h"
#include "tools/cluster_reload.h"
#include "tools/cluster_table.h"
#include "tools/control_exchange.h"
#include "tools/control_settings.h"
#include "tools/ctl_command_line.h"
#include "tools/mac_listing.h"
#include "tools/owner_batch.h"
#include "tools/reply_view.h"

namespace nlb {
namespace {

constexpr uint16_t kDefaultControlPort = 2505;

int Exit(ControlExit e) { return static_cast<int>(e); }

// What the command line leaves to the configuration file, read only when needed: a run with
// --socket, or with --host ADDR:PORT and --key, works without one.
class Invocation {
 public:
  explicit Invocation(const CtlCommandLine& line) : line_(line) {}

  Result<ControlTarget> Primary() {
    if (!line_.host) {
      if (!line_.socket_path.empty()) return ControlTarget::Local(line_.socket_path);
      const Result<const ControlSettings*> config = Config("find the local agent's socket");
      if (!config.ok()) return config.status();
      return ControlTarget::Local(
          ControlSocketPath(config.value()->cluster_name, config.value()->host_id));
    }
    const uint16_t port = line_.host_port ? *line_.host_port : 0;
    return RemoteTarget(*line_.host, port);
  }

  // port 0: control.port from the configuration (2505 when there is none and --key was given).
  Result<ControlTarget> RemoteTarget(const IpAddress& address, uint16_t port) {
    if (!psk_) {
      std::string key_path = line_.key_path;
      if (key_path.empty()) {
        const Result<const ControlSettings*> config =
            Config("find the cluster key (or give --key)");
        if (!config.ok()) return config.status();
        key_path = config.value()->key_file;
      }
      const Result<std::string> key = ReadClusterKey(key_path);
      if (!key.ok()) return key.status();
      psk_ = DeriveControlPsk(key.value());
    }
    if (port == 0) {
      if (config_ || line_.key_path.empty() || line_.config_given) {
        const Result<const ControlSettings*> config = Config("find the control port");
        if (!config.ok()) return config.status();
        port = config.value()->control_port;
      } else {
        port = kDefaultControlPort;
      }
    }
    return ControlTarget::Remote(address, port, *psk_);
  }

 private:
  // A file with errors beyond these fields still serves (ReadControlSettings), so that `reload`
  // of a broken file reaches the agent and the agent says why it refuses it.
  Result<const ControlSettings*> Config(std::string_view purpose) {
    if (!config_) {
      Result<ControlSettings> loaded = ReadControlSettings(line_.config_path);
      if (!loaded.ok()) {
        return Status::Error(loaded.status().code(), "cannot read " + line_.config_path + " to " +
                                                         std::string(purpose) + ":\n" +
                                                         loaded.status().message());
      }
      config_ = std::move(loaded).value();
    }
    return &*config_;
  }

  const CtlCommandLine& line_;
  std::optional<ControlSettings> config_;
  std::optional<ControlPsk> psk_;
};

std::string RequestLine(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& w : words) line += (line.empty() ? "" : " ") + w;
  return line;
}

int RunOne(const CtlCommandLine& line, const ControlTarget& target, std::ostream& out,
           std::ostream& err) {
  const ExchangeResult exchange =
      ExchangeControlRequest(target, RequestLine(line.words), line.timeout);
  if (!exchange.replied()) {
    err << "nlbctl: " << exchange.error << "\n";
    return Exit(exchange.transport);
  }
  const ReplyView view = ViewReply(line.command->name, exchange.reply);
  if (line.json) {
    out << exchange.reply << "\n";
  } else if (view.exit == ControlExit::kOk) {
    out << view.text;
  }
  if (view.exit != ControlExit::kOk) err << "nlbctl: " << view.text;
  return Exit(view.exit);
}

// The hosts a --cluster command goes to, each with the channel to reach it.
struct ClusterTargets {
  std::vector<ClusterHost> hosts;
  std::vector<ControlTarget> targets;  // same order
};

// Asks the primary agent for `query`. On failure prints why and returns the exit status.
std::variant<ClusterTargets, int> ListCluster(const CtlCommandLine& line, Invocation& invocation,
                                              const ControlTarget& primary, std::ostream& err) {
  const ExchangeResult query = ExchangeControlRequest(primary, "query", line.timeout);
  if (!query.replied()) {
    err << "nlbctl: cannot list the cluster's hosts: " << query.error << "\n";
    return Exit(query.transport);
  }
  const ReplyView query_view = ViewReply("query", query.reply);
  if (query_view.exit != ControlExit::kOk) {
    err << "nlbctl: cannot list the cluster's hosts: " << query_view.text;
    return Exit(query_view.exit);
  }
  Result<std::vector<ClusterHost>> hosts = ClusterHostsFromQuery(query.reply);
  if (!hosts.ok()) {
    err << "nlbctl: " << hosts.status().message() << "\n";
    return Exit(ControlExit::kInternal);
  }
  // The host that answered the query is asked the same way again (its remote channel may be
  // off); every other host over TLS.
  ClusterTargets cluster;
  cluster.hosts = std::move(hosts).value();
  for (const ClusterHost& host : cluster.hosts) {
    Result<ControlTarget> target = host.id == query_view.host
                                       ? Result<ControlTarget>(primary)
                                       : invocation.RemoteTarget(host.address, 0);
    if (!target.ok()) {
      err << "nlbctl: " << target.status().message() << "\n";
      return Exit(ControlExit::kInvalid);
    }
    cluster.targets.push_back(std::move(target).value());
  }
  return cluster;
}

// Sends request to every host at once, so that N dead hosts cost one timeout.
std::vector<HostOutcome> SendToAll(const ClusterTargets& cluster, std::string_view command,
                                   const std::string& request, std::chrono::milliseconds timeout) {
  std::vector<std::future<HostOutcome>> pending;
  for (size_t i = 0; i < cluster.hosts.size(); ++i) {
    pending.push_back(std::async(std::launch::async, [&, i] {
      return OutcomeOf(cluster.hosts[i], command,
                       ExchangeControlRequest(cluster.targets[i], request, timeout));
    }));
  }
  std::vector<HostOutcome> outcomes;
  for (auto& f : pending) outcomes.push_back(f.get());
  return outcomes;
}

// reload --cluster: reload-check on every host, then reload on every host only if all of them
// accept their file and agree on the new cluster digest. Otherwise nothing changes anywhere.
int ReloadCluster(const CtlCommandLine& line, const ClusterTargets& cluster, std::ostream& out,
                  std::ostream& err) {
  const std::vector<HostOutcome> checks =
      SendToAll(cluster, "reload-check", "reload-check", line.timeout);
  const ReloadCheckVerdict verdict = JudgeReloadChecks(checks);
  if (!verdict.proceed) {
    if (line.json) {
      out << ClusterReloadJson(checks, verdict, nullptr);
    } else {
      out << RenderReloadChecks(checks, verdict);
    }
    err << "nlbctl: " << verdict.reason << "\n";
    return Exit(verdict.exit);
  }
  const std::vector<HostOutcome> reloads = SendToAll(cluster, "reload", "reload", line.timeout);
  if (line.json) {
    out << ClusterReloadJson(checks, verdict, &reloads);
  } else {
    out << "every host checked its file: all " << checks.size()
        << " would switch to cluster digest " << verdict.digest.substr(0, 12) << "; reloaded:\n"
        << RenderClusterOutcomes(reloads, false);
  }
  return Exit(ClusterExit(reloads));
}

// query and report of every host at once, each host's report stamped when it arrived.
std::vector<HostSample> SampleCluster(const ClusterTargets& cluster,
                                      std::chrono::milliseconds timeout) {
  std::vector<std::future<HostSample>> pending;
  for (size_t i = 0; i < cluster.hosts.size(); ++i) {
    pending.push_back(std::async(std::launch::async, [&, i] {
      HostSample sample;
      sample.query = OutcomeOf(cluster.hosts[i], "query",
                               ExchangeControlRequest(cluster.targets[i], "query", timeout));
      sample.report = OutcomeOf(cluster.hosts[i], "report",
                                ExchangeControlRequest(cluster.targets[i], "report", timeout));
      sample.at = std::chrono::steady_clock::now();
      return sample;
    }));
  }
  std::vector<HostSample> samples;
  for (auto& f : pending) samples.push_back(f.get());
  return samples;
}

ClusterTableKind TableKind(const CtlCommandLine& line) {
  return line.command->name == "report" ? ClusterTableKind::kReport : ClusterTableKind::kQuery;
}

// Sleeps for interval unless interrupted first; false when interrupted.
bool Pause(std::chrono::milliseconds interval, const WatchHooks& hooks) {
  const auto until = std::chrono::steady_clock::now() + interval;
  while (std::chrono::steady_clock::now() < until) {
    if (hooks.interrupted != nullptr && hooks.interrupted->load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
  return hooks.interrupted == nullptr || !hooks.interrupted->load();
}

// One merged table: the hosts' query and report, then their reports again line.interval later
// for the packets/s column.
int ClusterView(const CtlCommandLine& line, const ClusterTargets& cluster, std::ostream& out,
                const WatchHooks& hooks) {
  std::vector<HostSample> before = SampleCluster(cluster, line.timeout);
  std::vector<HostSample> now;
  if (Pause(line.interval, hooks)) {
    now = SampleCluster(cluster, line.timeout);
  } else {
    now = std::move(before);  // interrupted: the one sample, without rates
    before.clear();
  }
  out << (line.json ? ClusterTableJson(now, before)
                    : RenderClusterTable(TableKind(line), now, before));
  return Exit(ClusterTableExit(now));
}

int RunOnCluster(const CtlCommandLine& line, Invocation& invocation, const ControlTarget& primary,
                 std::ostream& out, std::ostream& err, const WatchHooks& hooks) {
  std::variant<ClusterTargets, int> listed = ListCluster(line, invocation, primary, err);
  if (const int* status = std::get_if<int>(&listed)) return *status;
  const ClusterTargets& cluster = std::get<ClusterTargets>(listed);
  if (line.command->name == "reload") return ReloadCluster(line, cluster, out, err);
  if (line.command->name == "query" || line.command->name == "report") {
    return ClusterView(line, cluster, out, hooks);
  }
  const std::vector<HostOutcome> outcomes =
      SendToAll(cluster, line.command->name, RequestLine(line.words), line.timeout);
  out << RenderClusterOutcomes(outcomes, line.json);
  return Exit(ClusterExit(outcomes));
}

// watch: the view again every line.interval until interrupted (exit 0). A --cluster view asks
// for the host list each time (hosts join and leave) and takes its rates from the view before.
int Watch(const CtlCommandLine& line, Invocation& invocation, const ControlTarget& primary,
          std::ostream& out, std::ostream& err, const WatchHooks& hooks) {
  if (hooks.on_watch_start) hooks.on_watch_start();
  std::vector<HostSample> before;
  for (int refresh = 1;; ++refresh) {
    std::ostringstream view;
    std::ostringstream problems;
    if (line.cluster) {
      std::variant<ClusterTargets, int> listed = ListCluster(line, invocation, primary, problems);
      if (const ClusterTargets* cluster = std::get_if<ClusterTargets>(&listed)) {
        std::vector<HostSample> now = SampleCluster(*cluster, line.timeout);
        view << (line.json ? ClusterTableJson(now, before)
                           : RenderClusterTable(TableKind(line), now, before));
        before = std::move(now);
      }
    } else {
      RunOne(line, primary, view, problems);
    }
    if (hooks.out_is_terminal) {
      // Home and clear, as watch(1) does; only on a terminal, so that a pipe gets plain text.
      out << "\x1b[H\x1b[2J"
          << "every " << line.interval.count() << " ms: nlbctl "
          << (line.cluster ? "--cluster " : "") << line.command->name << " (Ctrl-C ends)\n\n";
    } else if (refresh > 1 && !line.json) {
      out << "\n";
    }
    out << view.str() << std::flush;
    err << problems.str() << std::flush;
    if (hooks.max_refreshes > 0 && refresh >= hooks.max_refreshes) break;
    if (!Pause(line.interval, hooks)) break;
  }
  return Exit(ControlExit::kOk);
}

}  // namespace

int RunNlbctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  return RunNlbctl(args, out, err, WatchHooks{});
}

int RunNlbctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err,
              const WatchHooks& hooks) {
  const Result<CtlCommandLine> parsed = ParseCtlCommandLine(args);
  if (!parsed.ok()) {
    err << "nlbctl: " << parsed.status().message() << "\n"
        << "Usage: nlbctl [OPTIONS] COMMAND [ARG]; nlbctl --help lists them.\n";
    return Exit(ControlExit::kInvalid);
  }
  const CtlCommandLine& line = parsed.value();
  if (line.action == CtlCommandLine::Action::kVersion) {
    out << CtlVersionText();
    return Exit(ControlExit::kOk);
  }
  if (line.action == CtlCommandLine::Action::kHelp) {
    out << (line.help_command ? CtlCommandHelpText(*line.help_command) : CtlUsageText());
    return Exit(ControlExit::kOk);
  }
  if (line.command->name == "keygen") {
    const Status written = WriteNewClusterKey(line.words[1], line.force);
    if (!written.ok()) {
      err << "nlbctl: " << written.message() << "\n";
      return Exit(written.code() == ErrorCode::kAlreadyExists ? ControlExit::kAlready
                                                              : ControlExit::kInternal);
    }
    out << "wrote a new cluster key to " << line.words[1]
        << " (mode 0600); copy it to every host as heartbeat.key_file\n";
    return Exit(ControlExit::kOk);
  }
  if (line.command->name == "ip2mac") {
    const Result<std::string> listing = ListClusterMacs(line.words[1], line.json);
    if (!listing.ok()) {
      err << "nlbctl: " << listing.status().message() << "\n";
      return Exit(ControlExit::kInvalid);
    }
    out << listing.value();
    return Exit(ControlExit::kOk);
  }
  Invocation invocation(line);
  const Result<ControlTarget> primary = invocation.Primary();
  if (!primary.ok()) {
    err << "nlbctl: " << primary.status().message() << "\n";
    return Exit(ControlExit::kInvalid);
  }
  if (!line.flows_path.empty()) {
    return RunOwnerBatch(line.flows_path, {line.protocol, line.json, line.timeout}, primary.value(),
                         out, err);
  }
  if (line.watch) return Watch(line, invocation, primary.value(), out, err, hooks);
  if (line.cluster) return RunOnCluster(line, invocation, primary.value(), out, err, hooks);
  return RunOne(line, primary.value(), out, err);
}

}  // namespace nlb
