// Agent: one running nlbd. Ties the configuration, the heartbeat channel, the convergence state
// machine, the data path and the control socket together. Its parts live in files by reason to
// change: agent.cc (what each tick does around convergence), agent_start.cc (start and set-up),
// agent/host_loop.h (the loop itself: ticks, heartbeats in and out, publishing maps, the lease),
// agent_operator.cc (what operator commands and reloads do; the routing is
// agent/control_dispatcher.h, the reload rules agent/reload_planner.h), agent_views.cc (query,
// params and report replies), agent_packets.cc (the decision counters as the report, status.json
// and /metrics show them) and agent_bpf.cc (the back ends' set-up and reports).
//
// Everything but the data path runs on one Boost.Asio io_context thread: heartbeats in and out,
// convergence ticks, control requests, signals. The data path has its own thread and reads the
// map through the SnapshotHolder this class publishes into (see agent/data_path.h). Nothing the
// agent changes on the host outlives it: the members below undo their set-up when destroyed.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/bpf_attach.h"
#include "agent/bpf_connections.h"
#include "agent/bpf_flow_table.h"
#include "agent/bpf_plane.h"
#include "agent/bpf_switch.h"
#include "agent/capture_switch.h"
#include "agent/cluster_mac.h"
#include "agent/control_dispatcher.h"
#include "agent/control_server.h"
#include "agent/data_path.h"
#include "agent/decision_totals.h"
#include "agent/health_monitor.h"
#include "agent/heartbeat_channel.h"
#include "agent/host_loop.h"
#include "agent/http_server.h"
#include "agent/instance_lock.h"
#include "agent/kernel_worker.h"
#include "agent/loop_clock.h"
#include "agent/map_publisher.h"
#include "agent/neighbour_responder.h"
#include "agent/nft_monitor.h"
#include "agent/nft_programmer.h"
#include "agent/packet_capture.h"
#include "agent/reload_planner.h"
#include "agent/remote_control_server.h"
#include "agent/service_notifier.h"
#include "agent/state_file.h"
#include "agent/tun_device.h"
#include "agent/xdp_attach.h"
#include "common/command_in_force.h"
#include "common/control_origin.h"
#include "common/control_rule.h"
#include "common/convergence.h"
#include "common/duration_histogram.h"
#include "common/host_status.h"
#include "common/json_writer.h"
#include "common/map_snapshot.h"
#include "common/operator_state.h"
#include "common/status.h"
#include "config/cluster_config.h"

namespace nlb::agent {

// The agent is also the StatusSource of its HTTP listener (agent/agent_status.cc) and the owner
// of its HostLoop.
class Agent final : public ControlTarget, public StatusSource, private HostLoopOwner {
 public:
  // Checks and sets up everything (refusing with a clear Status when the key file is missing or
  // readable by others, the interface is missing, or another nlbd runs this cluster here), then
  // starts heartbeating. REQUIRES: config validated by LoadConfigFile.
  static Result<std::unique_ptr<Agent>> Start(boost::asio::io_context& io, NodeConfig config);
  ~Agent() override;
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Answers one control request (docs/control.md), from the local socket or over TLS: at once,
  // or (wait=MS) once the command is in force.
  void HandleControl(std::vector<std::string> words, const RequestOrigin& origin,
                     std::function<void(std::string)> reply) {
    dispatcher_.Handle(std::move(words), origin, std::move(reply));
  }

  // ControlTarget (agent_operator.cc, agent_views.cc).
  uint16_t host_id() const override { return config_.host.id; }
  bool suspended() const override { return suspended_; }
  void NoteRefusedRemote(const std::string& command, const RequestOrigin& origin) override;
  std::string Query() const override;
  std::string Params() const override;
  std::string Report() const override;
  std::string Owner(const OwnerQuery& query) const override;
  std::string Command(HostCommand command) override;
  std::string SetRuleControl(const RuleSelector& selector, RuleControl control) override;
  std::string ReloadCheck() override;
  std::string ReloadNow(const RequestOrigin& origin) override;
  void AwaitInForce(std::string what, std::string done_reply, std::chrono::milliseconds wait,
                    std::function<void(std::string)> reply) override;

  // GET /metrics and /status.json read this (agent/agent_status.cc). Loop thread only.
  HostStatus CurrentStatus() const override;

 private:
  Agent(boost::asio::io_context& io, NodeConfig config);
  Status SetUpDataPath();
  // The back ends' kernel parts (agent_start.cc, agent_bpf.cc): the nftables diversion with the
  // capture's switch, or the BPF program attached with its switch. Each sets publisher_.
  Status SetUpNftables(const ClusterMac& cluster_mac);
  Status SetUpBpf(const ClusterMac& cluster_mac, PublisherHooks hooks);
  PublisherHooks KernelHooks();
  // What "the data path" answers, whichever back end runs (agent_bpf.cc).
  uint64_t AppliedGeneration() const;
  DecisionTotals Decisions() const;
  // One rule's decisions on this host (agent_packets.cc).
  struct RuleFigures {
    uint64_t accepted_packets = 0;
    uint64_t accepted_bytes = 0;
    uint64_t dropped_packets = 0;
    uint64_t dropped_bytes = 0;
  };
  // Each rule of `snapshot`'s figures from `d`, as the report, status.json and /metrics show
  // them: after a reload, a rule's last figures until the data path counts in the new numbering.
  std::vector<RuleFigures> ReadRuleFigures(const MapSnapshot& snapshot,
                                           const DecisionTotals& d) const;
  // The report's "packets" object (agent_packets.cc).
  void ReportPackets(JsonWriter& w, const MapSnapshot& snapshot) const;
  const KernelStats& kernel_stats() const;
  // The report's "data_path" and "kernel" objects (agent_bpf.cc).
  void ReportBackEnd(JsonWriter& w) const;
  // The connection table of the back end that runs (agent_bpf.cc): the BPF program's maps as of
  // the last sweep, or the capture's DescriptorTable. The report's connection counters (from
  // "tracked" to "table_full"), and the totals for status.json and the metrics.
  void ReportConnectionTable(JsonWriter& w) const;
  uint64_t TrackedConnections() const;
  uint64_t TrackedConnections(size_t rule) const;
  uint64_t ConnectionCapacity() const;
  void WaitForSignal();
  void Shutdown(const std::string& why);
  // The loop's (agent/host_loop.h), for the operator's commands.
  void ScheduleTick() { loop_->ScheduleTick(); }
  void Tick() { loop_->Tick(); }
  void PublishSnapshot() { loop_->PublishSnapshot(); }
  HostRole AnnouncedRole() const { return loop_->AnnouncedRole(); }
  // HostLoopOwner.
  HostRole role() const override { return role_; }
  void BeforeTick(std::chrono::steady_clock::time_point now) override;
  void AfterTick(const ConvergenceReport& before, const ConvergenceReport& after,
                 bool map_changed) override;
  void Restrict(MapSnapshot& snapshot) const override;
  std::shared_ptr<const RuleNumbering> numbering() const override { return numbering_; }
  // Leaves the cluster while the data path thread is gone or its capture fails.
  void CheckDataPath(std::chrono::steady_clock::time_point now);
  // Says once, in the log and the events, that no peer has been heard for kAlonePeriods.
  void WarnIfAlone(const ConvergenceReport& report);
  // Connection tracking: hands the table's per-bucket counts to convergence (at most every
  // 100 ms), and stops a draining host once it serves no connection any more.
  void FeedLocalConnections();
  void CompleteDrainstop();
  // Answers the commands waiting until in force (agent_operator.cc); polls while any waits.
  void CheckInForce();
  void NoteEvent(std::string event) override;
  // Per rule: the configured weight, or 0 while the operator disabled or drains the rule or its
  // health check drains it (agent/health_monitor.h).
  std::vector<HostRuleParams> EffectiveRuleParams() const;
  // Announces EffectiveRuleParams() and publishes the map: the one way a rule's share changes on
  // this host, for `nlbctl drain/enable/disable RULE` and health verdicts alike.
  void AnnounceRuleParams();
  // (Re)starts the health checks of the configuration in force (agent_health.cc).
  void StartHealthChecks();
  // A probe ended: recompute the verdicts; on a change note it and announce the weights.
  void OnHealthResult(const std::string& line);
  // A member's announced health per checked rule: (rule name, "serve"/"drain"/"fail-open"), for
  // query, the status page and the metrics (agent_views.cc).
  std::vector<std::pair<std::string, std::string>> MemberHealth(const MemberReport& m) const;
  // Operator state (agent_state.cc): restored at start, saved after every change, kept by rule
  // name across reloads.
  OperatorState CurrentOperatorState() const;
  void ApplyOperatorState(const OperatorState& state);
  void RestoreOperatorState();
  void SaveOperatorState();
  void FollowOperatorStateAcrossReload(const std::vector<std::string>& names_before,
                                       const std::vector<RuleControl>& controls_before);
  // Loads the configuration file and checks that it can replace the running one at run time.
  Result<ReloadPlan> PrepareReload();
  Status Reload();

  Status OpenHttp();  // the metrics and status page listener, when host.http enables it
  std::string StateText(const ConvergenceReport& r) const;  // as query prints it
  std::vector<ErrorCount> ErrorCounts() const;
  // by_operator false: the caller logged why (a finished drainstop), no "by operator" line.
  std::string SetRole(HostRole role, const char* verb, bool by_operator = true);

  boost::asio::io_context& io_;
  NodeConfig config_;
  std::vector<uint8_t> key_;
  ControlDispatcher dispatcher_{*this};
  InForceWaiters in_force_;
  boost::asio::steady_timer in_force_timer_{io_};
  std::optional<InstanceLock> lock_;
  AsioLoopClock clock_;
  boost::asio::signal_set signals_;
  std::unique_ptr<HeartbeatChannel> heartbeats_;
  bool alone_warned_ = false;
  std::unique_ptr<Convergence> convergence_;
  HostRole role_ = HostRole::kActive;
  bool suspended_ = false;
  std::vector<RuleControl> rule_control_;  // canonical rule order
  std::optional<StateFile> state_file_;
  uint64_t state_file_errors_ = 0;  // unreadable or malformed at start, or a save failed
  uint64_t refused_remote_ = 0;
  uint64_t reloads_ = 0;
  uint64_t reload_failures_ = 0;
  std::deque<std::string> events_;  // most recent last
  // The capture's per-rule figures by rule name as last read in the numbering in force; shown
  // while the data path has not yet renumbered its counters after a reload (agent_packets.cc).
  mutable std::map<std::string, RuleFigures> rule_figures_;
  // systemd's watchdog, petted from Tick: a loop that stops ticking gets the service restarted.
  ServiceNotifier watchdog_{ServiceNotifierOptionsFromEnvironment()};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  uint64_t convergences_ = 0;
  DurationHistogram convergence_durations_;
  std::unique_ptr<HealthMonitor> health_;  // the rules' health checks; null when none

  // The data path, in set-up order; destroyed in reverse, which undoes the set-up.
  SnapshotHolder snapshots_;
  // What the published snapshots' rule indices mean; a new epoch at each reload that changes
  // the rule names, after which the data path renumbers the table (common/rule_numbering.h).
  std::shared_ptr<const RuleNumbering> numbering_;
  std::unique_ptr<DescriptorTable> table_;  // written by the data path thread only
  std::chrono::steady_clock::time_point last_connections_feed_{};
  std::unique_ptr<ClusterMacBinding> mac_binding_;
  // The kernel: programmed on worker_'s thread only (the destructor joins it, then removes).
  // host.data_path capture: kernel_ (the nftables table: the diversion) and capture_switch_.
  // bpf and xdp: bpf_plane_, attachment_ (the tc filter or the XDP program) and bpf_, with kernel_
  // holding no VIPs (agent_bpf.cc says why). attachment_ goes after tun_: the VIPs leave this host
  // before the program stops dropping their traffic.
  std::unique_ptr<NftProgrammer> kernel_;
  std::unique_ptr<BpfPlane> bpf_plane_;
  std::unique_ptr<ProgramAttachment> attachment_;
  std::unique_ptr<BpfPlaneKernel> bpf_kernel_;  // the two, for bpf_
  // bpf: the program's connection table and the driver of its sweeps (its jobs run on worker_).
  std::unique_ptr<BpfFlowTable> bpf_flows_;
  std::unique_ptr<BpfConnections> bpf_connections_;
  std::unique_ptr<KernelWorker> worker_;
  std::unique_ptr<CaptureSwitch> capture_switch_;
  std::unique_ptr<BpfSwitch> bpf_;
  MapPublisher* publisher_ = nullptr;  // capture_switch_ or bpf_
  std::string data_path_why_;          // why this back end runs (report: data_path.why)
  std::chrono::steady_clock::time_point last_bpf_check_{};
  std::unique_ptr<NftMonitor> nft_monitor_;
  std::unique_ptr<HostLoop> loop_;  // ticks, heartbeats, the lease
  std::unique_ptr<PacketCapture> capture_;
  std::unique_ptr<TunDevice> tun_;
  std::unique_ptr<NeighbourResponder> responder_;
  std::unique_ptr<DataPath> data_path_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<RemoteControlServer> remote_control_;
  std::unique_ptr<HttpServer> http_;  // destroyed first: it reads the members above
};

}  // namespace nlb::agent
