#include "agent/agent.h"

#include <sys/random.h>

#include <boost/system/error_code.hpp>
#include <cstring>

#include "agent/interface_info.h"
#include "agent/log.h"
#include "common/control_command.h"
#include "common/control_socket_path.h"
#include "common/flow_hash.h"
#include "common/json_writer.h"
#include "config/cluster_key.h"
#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb::agent {

namespace asio = boost::asio;

namespace {

constexpr size_t kMaxEvents = 64;
// Datagrams held while a kernel cut finishes (a few ticks' worth; the oldest go first).
constexpr size_t kMaxHeld = 16;
// The lease is the peers' tolerance less max(half a period, this) (docs/protocol.md).
constexpr std::chrono::milliseconds kLeaseMinMargin{30};
// A kernel step that holds the announcement longer than max(tolerance, this) makes the host leave.
constexpr std::chrono::milliseconds kKernelDeadline{1000};

uint64_t RandomBootId() {
  uint64_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
      id = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
  }
  return id;
}

std::string HostList(const std::vector<MemberReport>& members) {
  std::string out = "[";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(members[i].host_id);
  }
  return out + "]";
}

}  // namespace

Agent::Agent(asio::io_context& io, NodeConfig config)
    : io_(io),
      config_(std::move(config)),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      timer_(io),
      rule_control_(config_.cluster.port_rules.size(), RuleControl::kEnabled) {
  if (config_.host.initial_state == InitialState::kStopped) role_ = HostRole::kStopped;
  RestoreOperatorState();
}

Agent::~Agent() {
  // The data path thread must stop before the objects it reads go away, and the kernel worker
  // before the programmer it drives; then what was put into the kernel goes.
  if (data_path_) data_path_->Stop();
  fast_path_.reset();
  worker_.reset();
  if (kernel_) kernel_->Remove();
}

Result<std::unique_ptr<Agent>> Agent::Start(asio::io_context& io, NodeConfig config) {
  std::unique_ptr<Agent> agent(new Agent(io, std::move(config)));
  const NodeConfig& c = agent->config_;

  auto lock = InstanceLock::Acquire(c.cluster.name);
  if (!lock.ok()) return lock.status();
  agent->lock_.emplace(std::move(lock.value()));

  auto key = ReadClusterKey(c.cluster.heartbeat.key_file);
  if (!key.ok()) return key.status();
  agent->key_.assign(key->begin(), key->end());

  auto interface = LookupInterface(c.host.interface, c.host.dedicated_address);
  if (!interface.ok()) return interface.status();

  ConvergenceConfig cc;
  cc.cluster_name = c.cluster.name;
  cc.key = agent->key_;
  cc.local_host_id = c.host.id;
  cc.dedicated_address = c.host.dedicated_address;
  cc.boot_id = RandomBootId();
  cc.period = std::chrono::milliseconds(c.cluster.heartbeat.period_ms);
  cc.tolerance = c.cluster.heartbeat.tolerance;
  cc.config_digest = ClusterDigest(c.cluster);
  cc.rule_modes = RuleModesOf(c.cluster);
  cc.rule_names = RuleNamesOf(c.cluster);
  cc.rule_keys = ClientKeysOf(c.cluster.port_rules);
  agent->numbering_ = std::make_shared<const RuleNumbering>(RuleNumbering{0, cc.rule_names});
  cc.rule_params = agent->EffectiveRuleParams();
  cc.role = agent->role_;
  cc.moving_timeout = std::chrono::seconds(c.cluster.connection_tracking.moving_timeout_s);
  if (Status s = Convergence::Validate(cc); !s.ok()) return s;
  agent->convergence_ = std::make_unique<Convergence>(cc, std::chrono::steady_clock::now());

  if (Status s = agent->SetUpDataPath(); !s.ok()) return s;

  auto channel =
      HeartbeatChannel::Open(io, c.host.interface, c.cluster.heartbeat.port, interface->broadcast);
  if (!channel.ok()) return channel.status();
  agent->heartbeats_ = std::move(channel.value());

  Agent* self = agent.get();
  auto control = ControlServer::Open(
      io, ControlSocketPath(c.cluster.name, c.host.id),
      [self](const std::vector<std::string>& words, ControlServer::Reply reply) {
        self->HandleControl(words, RequestOrigin{}, std::move(reply));
      });
  if (!control.ok()) return control.status();
  agent->control_ = std::move(control.value());
  if (c.cluster.control.remote) {
    RemoteControlOptions remote_options;
    remote_options.host_id = c.host.id;
    auto remote = RemoteControlServer::Open(
        io, c.host.dedicated_address, c.cluster.control.port,
        std::string_view(reinterpret_cast<const char*>(agent->key_.data()), agent->key_.size()),
        [self](const std::vector<std::string>& words, const RequestOrigin& origin,
               RemoteControlServer::Reply reply) {
          self->HandleControl(words, origin, std::move(reply));
        },
        remote_options);
    if (!remote.ok()) return remote.status();
    agent->remote_control_ = std::move(remote.value());
  }
  if (Status s = agent->OpenHttp(); !s.ok()) return s;

  agent->heartbeats_->Start(
      [self](std::span<const ReceivedDatagram> batch) { self->OnDatagrams(batch); });
  if (!agent->heartbeats_->kernel_stamps()) {
    LogWarning("heartbeat",
               "the kernel refused arrival stamps (SO_TIMESTAMPNS): heartbeats are "
               "stamped when read");
  }
  agent->WaitForSignal();
  agent->StartHealthChecks();
  agent->ScheduleTick();
  LogNotice("agent", "host " + std::to_string(c.host.id) + " of cluster " + c.cluster.name +
                         " started on " + c.host.interface + " (" +
                         c.host.dedicated_address.ToString() + "), role " +
                         std::string(HostRoleName(agent->role_)) + ", config digest " +
                         DigestHex(cc.config_digest).substr(0, 12));
  agent->NoteEvent("started");
  return agent;
}

Status Agent::SetUpDataPath() {
  const ClusterConfig& cluster = config_.cluster;
  const auto cluster_mac = ComputeClusterMac(cluster.vips, cluster.mac_mode);
  if (!cluster_mac) {
    return Status::Error(ErrorCode::kInvalidArgument, "cluster.vips: no VIP to derive a MAC from");
  }
  ClusterMacOptions mac_options;
  mac_options.interface = config_.host.interface;
  mac_options.cluster = *cluster_mac;
  mac_options.host_id = config_.host.id;
  mac_options.vips = cluster.vips;
  auto binding = ClusterMacBinding::Bind(mac_options);
  if (!binding.ok()) return binding.status();
  mac_binding_ = std::move(binding.value());

  // The diversion goes in before the VIPs exist locally, so the kernel never takes one itself.
  // At start the loop does not run yet: this one install may wait for the kernel.
  DiversionOptions diversion_options;
  diversion_options.cluster_name = cluster.name;
  diversion_options.interface = config_.host.interface;
  diversion_options.vips = cluster.vips;
  if (cluster.mac_mode == MacMode::kUnicast) {
    diversion_options.cluster_mac = cluster_mac->mac;
    diversion_options.masked_source = MaskedSourceMac(*cluster_mac, config_.host.id);
  }
  auto kernel = NftProgrammer::Create(diversion_options);
  if (!kernel.ok()) return kernel.status();
  kernel_ = std::move(kernel.value());
  if (Status s = kernel_->Install(cluster.port_rules); !s.ok()) return s;
  worker_ = std::make_unique<KernelWorker>(io_);
  FastPathSwitchHooks hooks;
  hooks.announce = [this] { SendHeld(); };
  hooks.on_stuck = [this](const std::string& why) { Block(kBlockKernel, why); };
  hooks.on_recovered = [this] { Unblock(kBlockKernel); };
  hooks.on_event = [this](const std::string& line) {
    LogError("kernel", line);
    NoteEvent(line);
  };
  const auto period = std::chrono::milliseconds(cluster.heartbeat.period_ms);
  fast_path_ = std::make_unique<FastPathSwitch>(
      io_, snapshots_, *worker_, *kernel_, cluster.port_rules,
      std::max<std::chrono::milliseconds>(cluster.heartbeat.tolerance * period, kKernelDeadline),
      std::move(hooks));
  fast_path_->SetEnabled(config_.host.kernel_fast_path);
  auto monitor = NftMonitor::Open(
      io_, [this] { return worker_->thread_id(); },
      [this] { fast_path_->CheckKernel("somebody else changed the ruleset"); });
  if (!monitor.ok()) return monitor.status();
  nft_monitor_ = std::move(monitor.value());
  lease_length_ = cluster.heartbeat.tolerance * period - std::max(period / 2, kLeaseMinMargin);

  auto capture = PacketCapture::Open({config_.host.interface, cluster.vips});
  if (!capture.ok()) return capture.status();
  capture_ = std::move(capture.value());

  auto tun = TunDevice::Create({"nlb0", config_.host.interface, cluster.vips});
  if (!tun.ok()) return tun.status();
  tun_ = std::move(tun.value());

  const NeighbourIdentity identity{mac_binding_->frame_source(), cluster_mac->mac};
  auto responder =
      NeighbourResponder::Open(mac_binding_->interface_index(), identity, cluster.vips);
  if (!responder.ok()) return responder.status();
  responder_ = std::move(responder.value());

  PublishSnapshot();  // not serving until the first agreement
  DescriptorTableOptions table_options;
  table_options.capacity = cluster.connection_tracking.capacity;
  table_options.idle_timeout = std::chrono::seconds(cluster.connection_tracking.idle_timeout_s);
  table_options.close_delay = std::chrono::seconds(cluster.connection_tracking.close_delay_s);
  table_options.seed = RandomBootId();
  table_ = std::make_unique<DescriptorTable>(table_options, std::chrono::steady_clock::now());
  data_path_ = std::make_unique<DataPath>(*capture_, *tun_, *responder_, snapshots_);
  data_path_->UseDescriptorTable(table_.get());
  fast_path_->UseDataPath(data_path_.get());
  if (Status s = data_path_->Start(); !s.ok()) return s;
  LogInfo("datapath", "capturing on " + config_.host.interface + ", cluster MAC " +
                          FormatMac(cluster_mac->mac) + " (" +
                          std::string(MacModeName(cluster.mac_mode)) + "), TUN " + tun_->name() +
                          ", nftables table " + kernel_->table());
  return Status::Ok();
}

void Agent::WaitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      if (Status s = Reload(); !s.ok()) LogError("reload", "SIGHUP: " + s.message());
      WaitForSignal();
      return;
    }
    Shutdown(signal == SIGTERM ? "SIGTERM" : "SIGINT");
  });
}

void Agent::Shutdown(const std::string& why) {
  LogNotice("agent", "stopping (" + why + ")");
  timer_.cancel();
  signals_.cancel();
  if (heartbeats_) heartbeats_->Close();
  if (nft_monitor_) nft_monitor_->Close();
  if (data_path_) data_path_->Stop();
  io_.stop();
}

void Agent::ScheduleTick() {
  tick_due_ = convergence_->NextWakeup();
  timer_.expires_at(tick_due_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    loop_lag_.Record(std::chrono::duration_cast<LoopLag::Duration>(
        std::chrono::steady_clock::now() - tick_due_));
    Tick();
    ScheduleTick();
  });
}

void Agent::Tick() {
  CheckDataPath(std::chrono::steady_clock::now());
  watchdog_.PetWatchdog(std::chrono::steady_clock::now());
  FeedLocalConnections();
  const auto before = convergence_->Report();
  Convergence::Actions actions = convergence_->OnTick(std::chrono::steady_clock::now());
  // The data path and the kernel fast path switch to what this tick decided before the others
  // hear of it: a peer that receives this host's report under a new map starts taking new
  // connections in the buckets it gained, so this host must have stopped taking them by then (a
  // SYN two hosts take is a broken connection). Send holds the datagrams until then.
  if (actions.map_changed || actions.moving_changed) PublishSnapshot();
  for (std::vector<uint8_t>& report : actions.moving_reports) Send(std::move(report), false);
  if (actions.heartbeat) Send(std::move(*actions.heartbeat), true);
  const auto after = convergence_->Report();
  WarnIfAlone(after);
  if (actions.map_changed) {
    responder_->Announce();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(after.last_duration);
    ++convergences_;
    convergence_durations_.Observe(std::chrono::duration<double>(after.last_duration).count());
    const std::string line = "converged: generation " + std::to_string(after.generation) +
                             ", members " + HostList(after.members) +
                             ", cause: " + after.last_cause + ", took " +
                             std::to_string(ms.count()) + " ms";
    LogNotice("convergence", line);
    NoteEvent(line);
  }
  if (before.local_kept_out != after.local_kept_out && after.local_kept_out) {
    const std::string line = "this host is kept out of the cluster: " +
                             std::string(KeptOutReasonName(*after.local_kept_out));
    LogError("convergence", line);
    NoteEvent(line);
    PublishSnapshot();
  }
  for (const KeptOutHost& k : after.kept_out) {
    bool known = false;
    for (const KeptOutHost& b : before.kept_out) known |= b.host_id == k.host_id;
    if (known) continue;
    const std::string line = "keeping out host " + std::to_string(k.host_id) + " (" +
                             k.dedicated_address.ToString() +
                             "): " + std::string(KeptOutReasonName(k.reason));
    LogWarning("convergence", line);
    NoteEvent(line);
  }
  CompleteDrainstop();
  CheckInForce();
}

void Agent::FeedLocalConnections() {
  if (!table_ || !data_path_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_connections_feed_ < std::chrono::milliseconds(100)) return;
  // The counts are per rule index: until the data path has renumbered the table after a reload,
  // they are in the old numbering (read first: the counts read after it are in this one).
  if (table_->rule_epoch() != numbering_->epoch) return;
  // Both are read before the counts, so the counts are at least that recent. The data path may
  // be idle (AppliedGeneration() says kIdle) and yet not have loaded the latest map, which the
  // kernel switch may even hold back: after an affinity change, counts of the old keys would end
  // the holdings of every old connection. The table's key generation says which map it follows.
  const uint64_t applied = CountsGeneration(data_path_->AppliedGeneration(), *table_);
  last_connections_feed_ = now;
  const size_t rules = config_.cluster.port_rules.size();
  std::vector<BucketSet> sets(rules);
  for (size_t r = 0; r < rules && r < kMaxTrackedRules; ++r) {
    if (table_->RuleConnections(static_cast<uint32_t>(r)) == 0) continue;
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      if (table_->Connections(static_cast<uint32_t>(r), b) > 0) sets[r].Add(b);
    }
  }
  convergence_->SetLocalConnections(sets, applied);
}

void Agent::CompleteDrainstop() {
  if (role_ != HostRole::kDraining) return;
  const ConvergedMap* map = convergence_->CurrentMap();
  if (map == nullptr || convergence_->HoldsMovingBuckets()) return;
  bool drained_map = false;  // the cluster has taken this host's buckets away
  for (const ViewMember& m : map->members) {
    drained_map |= m.host_id == config_.host.id && m.role == HostRole::kDraining;
  }
  if (!drained_map || data_path_->AppliedGeneration() < map->generation) return;
  const std::string line = "drainstop complete: the last connection closed, host stopped";
  LogNotice("control", line);
  NoteEvent(line);
  (void)SetRole(HostRole::kStopped, "stopped", /*by_operator=*/false);
}

void Agent::OnDatagrams(std::span<const ReceivedDatagram> batch) {
  for (const ReceivedDatagram& d : batch) {
    const Status s = convergence_->OnDatagram(d.bytes, d.arrival);
    if (!s.ok()) {
      LogDebug("heartbeat", "dropped datagram from " + d.from.ToString() + ": " + s.message());
    }
  }
  // One tick for the whole queue: a tick between two queued datagrams would judge the silence
  // of peers whose heartbeats are still waiting behind the first. Ticking now keeps convergence
  // to network latency (a datagram may complete an agreement).
  Tick();
  ScheduleTick();
}

void Agent::WarnIfAlone(const ConvergenceReport& report) {
  // Ten periods: long past any start-up race of hosts started together, short enough that an
  // operator watching the log of a new cluster sees it.
  constexpr int kAlonePeriods = 10;
  if (report.peers_heard > 0) {
    if (alone_warned_) LogNotice("heartbeat", "hearing peers again");
    alone_warned_ = false;
    return;
  }
  if (alone_warned_ ||
      report.alone_for <
          kAlonePeriods * std::chrono::milliseconds(config_.cluster.heartbeat.period_ms)) {
    return;
  }
  alone_warned_ = true;
  const std::string line =
      "no peer heard for " + std::to_string(kAlonePeriods) +
      " heartbeat periods (heartbeats go to " + heartbeats_->destination().ToString() + " port " +
      std::to_string(config_.cluster.heartbeat.port) + " on " + config_.host.interface +
      "): this host is a cluster of one; if others should be here, check that they share this "
      "subnet, the port and the cluster key";
  LogWarning("heartbeat", line);
  NoteEvent(line);
}

void Agent::Send(std::vector<uint8_t> datagram, bool heartbeat) {
  const auto now = std::chrono::steady_clock::now();
  if (now < silent_until_) return;  // see silent_until_
  if (fast_path_ && fast_path_->holds_announcement()) {
    if (held_.size() >= kMaxHeld) held_.erase(held_.begin());
    held_.emplace_back(std::move(datagram), heartbeat);
    return;
  }
  heartbeats_->Send(datagram);
  if (heartbeat) GrantLease(now);
}

void Agent::SendHeld() {
  std::vector<std::pair<std::vector<uint8_t>, bool>> held;
  held.swap(held_);
  for (auto& [datagram, heartbeat] : held) Send(std::move(datagram), heartbeat);
}

void Agent::PublishSnapshot() {
  auto snapshot = std::make_shared<MapSnapshot>();
  const ConvergedMap* map = convergence_->CurrentMap();
  if (map != nullptr) {
    *snapshot = ToMapSnapshot(*map, config_.cluster.port_rules, config_.cluster.vips,
                              config_.host.id, convergence_->serving(),
                              convergence_->MovingSnapshot(), convergence_->PendingSnapshot());
    // A rule this host disabled stops at once, before the cluster has moved its buckets.
    for (size_t i = 0; i < snapshot->rules.size() && i < rule_control_.size(); ++i) {
      if (rule_control_[i] == RuleControl::kDisabled) snapshot->rules[i].enabled = false;
    }
    if (AnnouncedRole() == HostRole::kStopped || role_ == HostRole::kSuspended) {
      snapshot->serving = false;
    }
  } else {
    snapshot->local_host_id = config_.host.id;
    snapshot->vips = config_.cluster.vips;
  }
  snapshot->numbering = numbering_;
  fast_path_->Apply(std::move(snapshot));
}

void Agent::NoteEvent(std::string event) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  events_.push_back(std::string(stamp) + " " + std::move(event));
  while (events_.size() > kMaxEvents) events_.pop_front();
}

}  // namespace nlb::agent
