// Agent: one running nlbd. Ties the configuration, the heartbeat channel, the convergence state
// machine, the data path and the control socket together. Its parts live in files by reason to
// change: agent.cc (start, ticks, heartbeats, publishing maps), agent_operator.cc (what operator
// commands and reloads do; the routing is agent/control_dispatcher.h, the reload rules
// agent/reload_planner.h), agent_views.cc (query, params and report replies) and
// agent_fast_path.cc (the kernel fast path's hand-over).
//
// Everything but the data path runs on one Boost.Asio io_context thread: heartbeats in and out,
// convergence ticks, control requests, signals. The data path has its own thread and reads the
// map through the SnapshotHolder this class publishes into (see agent/data_path.h). Nothing the
// agent changes on the host outlives it: the members below undo their set-up when destroyed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/cluster_mac.h"
#include "agent/control_dispatcher.h"
#include "agent/control_server.h"
#include "agent/data_path.h"
#include "agent/heartbeat_channel.h"
#include "agent/ingress_diversion.h"
#include "agent/instance_lock.h"
#include "agent/neighbour_responder.h"
#include "agent/packet_capture.h"
#include "agent/reload_planner.h"
#include "agent/remote_control_server.h"
#include "agent/tun_device.h"
#include "common/control_origin.h"
#include "common/control_rule.h"
#include "common/convergence.h"
#include "common/map_snapshot.h"
#include "common/status.h"
#include "config/cluster_config.h"

namespace nlb::agent {

class Agent final : public ControlTarget {
 public:
  // Checks and sets up everything (refusing with a clear Status when the key file is missing or
  // readable by others, the interface is missing, or another nlbd runs this cluster here), then
  // starts heartbeating. REQUIRES: config validated by LoadConfigFile.
  static Result<std::unique_ptr<Agent>> Start(boost::asio::io_context& io, NodeConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Answers one control request (docs/control.md), from the local socket or over TLS.
  std::string HandleControl(const std::vector<std::string>& words, const RequestOrigin& origin) {
    return dispatcher_.Handle(words, origin);
  }

  // ControlTarget (agent_operator.cc, agent_views.cc).
  uint16_t host_id() const override { return config_.host.id; }
  bool suspended() const override { return suspended_; }
  void NoteRefusedRemote(const std::string& command, const RequestOrigin& origin) override;
  std::string Query() const override;
  std::string Params() const override;
  std::string Report() const override;
  std::string Command(HostCommand command) override;
  std::string SetRuleControl(const RuleSelector& selector, RuleControl control) override;
  std::string ReloadCheck() override;
  std::string ReloadNow(const RequestOrigin& origin) override;

 private:
  Agent(boost::asio::io_context& io, NodeConfig config);
  Status SetUpDataPath();
  void WaitForSignal();
  void Shutdown(const std::string& why);
  void ScheduleTick();
  void Tick();
  void OnDatagram(std::span<const uint8_t> datagram, const IpAddress& from);
  // grow_now: give the kernel fast path the buckets it gains at once, rather than from a timer
  // two heartbeat periods later (so that convergence is not held up by that nft run).
  void PublishSnapshot(bool grow_now = false);
  // Moves the kernel fast path to what *snapshot allows and attaches to it what the kernel now
  // delivers; may publish an intermediate snapshot for the switch (see the definition).
  void UpdateFastPath(MapSnapshot* snapshot, bool grow_now);
  // Connection tracking: hands the table's per-bucket counts to convergence (at most every
  // 100 ms), and stops a draining host once it serves no connection any more.
  void FeedLocalConnections();
  void CompleteDrainstop();
  void NoteEvent(std::string event);
  std::vector<HostRuleParams> EffectiveRuleParams() const;
  // Loads the configuration file and checks that it can replace the running one at run time.
  Result<ReloadPlan> PrepareReload();
  Status Reload();
  // by_operator false: the caller logged why (a finished drainstop), no "by operator" line.
  std::string SetRole(HostRole role, const char* verb, bool by_operator = true);

  boost::asio::io_context& io_;
  NodeConfig config_;
  std::vector<uint8_t> key_;
  ControlDispatcher dispatcher_{*this};
  std::optional<InstanceLock> lock_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer fast_path_grow_timer_;  // the kernel takes gained buckets
  std::unique_ptr<HeartbeatChannel> heartbeats_;
  std::unique_ptr<Convergence> convergence_;
  HostRole role_ = HostRole::kActive;
  bool suspended_ = false;
  std::vector<RuleControl> rule_control_;  // canonical rule order
  uint64_t refused_remote_ = 0;
  uint64_t reloads_ = 0;
  uint64_t reload_failures_ = 0;
  std::deque<std::string> events_;  // most recent last

  // The data path, in set-up order; destroyed in reverse, which undoes the set-up.
  SnapshotHolder snapshots_;
  // What the published snapshots' rule indices mean; a new epoch at each reload that changes
  // the rule names, after which the data path renumbers the table (common/rule_numbering.h).
  std::shared_ptr<const RuleNumbering> numbering_;
  std::unique_ptr<DescriptorTable> table_;  // written by the data path thread only
  std::chrono::steady_clock::time_point last_connections_feed_{};
  std::unique_ptr<ClusterMacBinding> mac_binding_;
  std::unique_ptr<IngressDiversion> diversion_;
  // Kernel fast path: what the diversion's chain delivers now (aligned with the rules of the
  // snapshot it was computed from); disabled after an nft failure until the next reload.
  std::vector<FastPathRule> fast_installed_;
  bool fast_path_failed_ = false;
  bool fast_path_grow_scheduled_ = false;
  bool fast_chain_has_cuts_ = false;  // CutFastPath lines the next full update must remove
  std::chrono::milliseconds fast_path_last_switch_{0};  // the last switch's nft runs and waits
  uint64_t fast_path_errors_ = 0;
  std::unique_ptr<PacketCapture> capture_;
  std::unique_ptr<TunDevice> tun_;
  std::unique_ptr<NeighbourResponder> responder_;
  std::unique_ptr<DataPath> data_path_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<RemoteControlServer> remote_control_;
};

}  // namespace nlb::agent
