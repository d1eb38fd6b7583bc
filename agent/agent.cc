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

uint64_t RandomBootId() {
  uint64_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
      id = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
  }
  return id;
}

std::vector<FilteringMode> RuleModes(const ClusterConfig& cluster) {
  std::vector<FilteringMode> modes;
  for (const PortRule& rule : cluster.port_rules) modes.push_back(rule.mode);
  return modes;
}

std::vector<std::string> RuleNamesOf(const ClusterConfig& cluster) {
  std::vector<std::string> names;
  for (const PortRule& rule : cluster.port_rules) names.push_back(rule.name);
  return names;
}

std::string Refusal(uint16_t host, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(false).Key("host").Uint(host);
  w.Key("code").String(code).Key("error").String(message).EndObject();
  return w.str();
}

std::string Done(uint16_t host, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(host).Key("result").String(message);
  w.EndObject();
  return w.str();
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
      fast_path_grow_timer_(io),
      rule_control_(config_.cluster.port_rules.size(), RuleControl::kEnabled) {
  if (config_.host.initial_state == InitialState::kStopped) role_ = HostRole::kStopped;
}

Agent::~Agent() {
  // The data path thread must stop before the objects it reads go away.
  if (data_path_) data_path_->Stop();
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
  cc.rule_modes = RuleModes(c.cluster);
  cc.rule_names = RuleNamesOf(c.cluster);
  cc.rule_keys = ClientKeysOf(c.cluster.port_rules);
  agent->numbering_ = std::make_shared<const RuleNumbering>(RuleNumbering{0, cc.rule_names});
  cc.rule_params = agent->EffectiveRuleParams();
  cc.role = agent->role_;
  cc.moving_timeout = std::chrono::seconds(c.cluster.connection_tracking.moving_timeout_s);
  if (Status s = Convergence::Validate(cc); !s.ok()) return s;
  agent->convergence_ = std::make_unique<Convergence>(cc, std::chrono::steady_clock::now());

  if (Status s = agent->SetUpDataPath(); !s.ok()) return s;

  auto channel = HeartbeatChannel::Open(io, c.host.interface, c.cluster.heartbeat.port,
                                        interface->broadcast);
  if (!channel.ok()) return channel.status();
  agent->heartbeats_ = std::move(channel.value());

  Agent* self = agent.get();
  auto control = ControlServer::Open(io, ControlSocketPath(c.cluster.name, c.host.id),
                                     [self](const std::vector<std::string>& words) {
                                       return self->HandleControl(words, RequestOrigin{});
                                     });
  if (!control.ok()) return control.status();
  agent->control_ = std::move(control.value());
  if (c.cluster.control.remote) {
    RemoteControlOptions remote_options;
    remote_options.host_id = c.host.id;
    auto remote = RemoteControlServer::Open(
        io, c.host.dedicated_address, c.cluster.control.port,
        std::string_view(reinterpret_cast<const char*>(agent->key_.data()), agent->key_.size()),
        [self](const std::vector<std::string>& words, const RequestOrigin& origin) {
          return self->HandleControl(words, origin);
        },
        remote_options);
    if (!remote.ok()) return remote.status();
    agent->remote_control_ = std::move(remote.value());
  }

  agent->heartbeats_->Start([self](std::span<const uint8_t> d, const IpAddress& from) {
    self->OnDatagram(d, from);
  });
  agent->WaitForSignal();
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
  DiversionOptions diversion_options;
  diversion_options.cluster_name = cluster.name;
  diversion_options.interface = config_.host.interface;
  diversion_options.vips = cluster.vips;
  if (cluster.mac_mode == MacMode::kUnicast) {
    diversion_options.cluster_mac = cluster_mac->mac;
    diversion_options.masked_source = MaskedSourceMac(*cluster_mac, config_.host.id);
  }
  auto diversion = IngressDiversion::Install(diversion_options);
  if (!diversion.ok()) return diversion.status();
  diversion_ = std::move(diversion.value());

  auto capture = PacketCapture::Open({config_.host.interface, cluster.vips});
  if (!capture.ok()) return capture.status();
  capture_ = std::move(capture.value());

  auto tun = TunDevice::Create({"nlb0", config_.host.interface, cluster.vips});
  if (!tun.ok()) return tun.status();
  tun_ = std::move(tun.value());

  const NeighbourIdentity identity{mac_binding_->frame_source(), cluster_mac->mac};
  auto responder = NeighbourResponder::Open(mac_binding_->interface_index(), identity,
                                            cluster.vips);
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
  if (Status s = data_path_->Start(); !s.ok()) return s;
  LogInfo("datapath", "capturing on " + config_.host.interface + ", cluster MAC " +
                          FormatMac(cluster_mac->mac) + " (" +
                          std::string(MacModeName(cluster.mac_mode)) + "), TUN " + tun_->name() +
                          ", nftables table " + diversion_->table());
  return Status::Ok();
}

void Agent::WaitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      if (Status s = Reload(); !s.ok()) LogError("reload", s.message());
      WaitForSignal();
      return;
    }
    Shutdown(signal == SIGTERM ? "SIGTERM" : "SIGINT");
  });
}

void Agent::Shutdown(const std::string& why) {
  LogNotice("agent", "stopping (" + why + ")");
  timer_.cancel();
  fast_path_grow_timer_.cancel();
  signals_.cancel();
  if (heartbeats_) heartbeats_->Close();
  if (data_path_) data_path_->Stop();
  io_.stop();
}

void Agent::ScheduleTick() {
  timer_.expires_at(convergence_->NextWakeup());
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Tick();
    ScheduleTick();
  });
}

void Agent::Tick() {
  FeedLocalConnections();
  const auto before = convergence_->Report();
  Convergence::Actions actions = convergence_->OnTick(std::chrono::steady_clock::now());
  // The data path (and the kernel fast path, which takes an nft run) switches to what this tick
  // decided before the others hear of it: a peer that receives this host's report under a new
  // map starts taking new connections in the buckets it gained, so this host must have stopped
  // taking them by then (a SYN two hosts take is a broken connection).
  if (actions.map_changed || actions.moving_changed) PublishSnapshot();
  for (const std::vector<uint8_t>& report : actions.moving_reports) heartbeats_->Send(report);
  if (actions.heartbeat) heartbeats_->Send(*actions.heartbeat);
  const auto after = convergence_->Report();
  if (actions.map_changed) {
    responder_->Announce();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(after.last_duration);
    const std::string line = "converged: generation " + std::to_string(after.generation) +
                             ", members " + HostList(after.members) + ", cause: " +
                             after.last_cause + ", took " + std::to_string(ms.count()) + " ms";
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
}

void Agent::FeedLocalConnections() {
  if (!table_ || !data_path_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_connections_feed_ < std::chrono::milliseconds(100)) return;
  // The counts are per rule index: until the data path has renumbered the table after a reload,
  // they are in the old numbering (read first: the counts read after it are in this one).
  if (table_->rule_epoch() != numbering_->epoch) return;
  // The applied generation is read before the counts, so the counts are at least that recent.
  const uint64_t applied = data_path_->AppliedGeneration();
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
  (void)SetRole(HostRole::kStopped, "stopped");
}

void Agent::OnDatagram(std::span<const uint8_t> datagram, const IpAddress& from) {
  const Status s = convergence_->OnDatagram(datagram, std::chrono::steady_clock::now());
  if (!s.ok()) {
    LogDebug("heartbeat", "dropped datagram from " + from.ToString() + ": " + s.message());
  }
  // A datagram may complete an agreement; ticking now keeps convergence to network latency.
  Tick();
  ScheduleTick();
}

void Agent::PublishSnapshot(bool grow_now) {
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
    if (role_ == HostRole::kStopped || role_ == HostRole::kSuspended) snapshot->serving = false;
  } else {
    snapshot->local_host_id = config_.host.id;
    snapshot->vips = config_.cluster.vips;
  }
  snapshot->numbering = numbering_;
  UpdateFastPath(snapshot.get(), grow_now);  // after the numbering: it may publish a copy of this snapshot
  snapshots_.Publish(std::move(snapshot));
}

namespace {

// fast laid out along snapshot's rules (by rule content), as AttachFastPath and nft need them.
std::vector<FastPathRule> AlignedTo(const MapSnapshot& snapshot,
                                    const std::vector<FastPathRule>& fast) {
  std::vector<FastPathRule> out(snapshot.rules.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].rule = snapshot.rules[i].rule;
    for (const FastPathRule& f : fast) {
      if (f.rule == out[i].rule) out[i] = f;
    }
  }
  return out;
}

std::vector<FastPathRule> NonEmpty(std::vector<FastPathRule> fast) {
  std::erase_if(fast, [](const FastPathRule& f) { return f.Empty(); });
  return fast;
}

bool SameRules(const MapSnapshot& a, const MapSnapshot& b) {
  if (a.rules.size() != b.rules.size()) return false;
  for (size_t i = 0; i < a.rules.size(); ++i) {
    if (a.rules[i].rule != b.rules[i].rule) return false;
  }
  return true;
}

}  // namespace

// The kernel and the data path must agree on every packet: the data path tracks a connection
// only if its decision accepts the SYN, so a SYN the kernel delivered by its old chain must be
// decided by the map that chain came from. Hence, when buckets leave the kernel:
//   1. publish the map in force with the kernel's share cut to what stays (the data path now
//      delivers, by the same map, what the kernel is about to stop delivering);
//   2. cut the kernel's chain to that;
//   3. wait until the data path has drained its ring once after the cut (every frame the old
//      chain may have delivered is then decided, by the map of step 1);
// and only then:
//   4. publish the new map with the same reduced kernel share;
//   5. give the kernel the new share (buckets joining it may be delivered twice, by the kernel
//      and the data path, until the caller publishes the final snapshot: never not at all).
//      Unless grow_now, step 5 runs from a timer two heartbeat periods later: the tick's
//      heartbeat must wait for a cut (steps 1-3) but not for a gain (measured: +100-130 ms on
//      the 100 ms / 3 failover when gains ran at once).
// fast_installed_ keeps non-empty entries only, so that it survives a reload that reorders the
// rules. A reload that changes the rules empties the kernel's share for the switch.
void Agent::UpdateFastPath(MapSnapshot* snapshot, bool grow_now) {
  if (!diversion_) return;
  std::vector<FastPathRule> next;
  if (config_.host.kernel_fast_path && !fast_path_failed_) {
    next = NonEmpty(ComputeFastPath(*snapshot));
  }
  if (next == fast_installed_ && !(grow_now && fast_chain_has_cuts_)) {
    AttachFastPath(*snapshot, AlignedTo(*snapshot, next));
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::shared_ptr<const MapSnapshot> current = snapshots_.Load();
  // A reload that changes the rules empties the kernel's share for the switch.
  const bool same_rules = SameRules(*current, *snapshot);
  std::vector<FastPathRule> both;
  if (same_rules) {
    both = NonEmpty(IntersectFastPath(AlignedTo(*snapshot, next), fast_installed_));
  }
  Status s = Status::Ok();
  if (both != fast_installed_) {
    auto held = std::make_shared<MapSnapshot>(*current);  // steps 1-3
    AttachFastPath(*held, AlignedTo(*held, both));
    snapshots_.Publish(std::move(held));
    // A cut is a few drop lines at the head of the chain (a small nft script) when they can
    // catch nothing but their own rule's packets; else the whole chain is replaced.
    if (same_rules && RulesAreDisjoint(snapshot->rules)) {
      s = diversion_->CutFastPath(
          AlignedTo(*snapshot, FastPathDifference(fast_installed_, both)));
      if (s.ok()) fast_chain_has_cuts_ = true;
    } else {
      s = diversion_->UpdateFastPath(AlignedTo(*snapshot, both));
      if (s.ok()) fast_chain_has_cuts_ = false;
    }
    if (s.ok()) {
      fast_installed_ = both;
      if (data_path_ && !data_path_->WaitForDrainedRound(std::chrono::milliseconds(200))) {
        LogWarning("datapath", "the capture did not drain within 200 ms of a fast-path switch; "
                               "connections starting in it may not be tracked");
      }
    }
  }
  const bool rewrite = next != fast_installed_ || fast_chain_has_cuts_;
  if (s.ok() && rewrite && !grow_now) {
    // Only gains (and tidying the cut lines away) are left: nothing to stop before the others
    // hear of the map. The kernel takes them two heartbeat periods later, in one nft run for
    // whatever the map has become by then: the data path delivers them meanwhile, and the
    // agent's thread (heartbeats, nlbctl) is not held up by nft runs (60-100 ms for 8k buckets)
    // while the cluster is still converging or buckets are still settling.
    if (!fast_path_grow_scheduled_) {
      fast_path_grow_scheduled_ = true;
      fast_path_grow_timer_.expires_after(
          2 * std::chrono::milliseconds(config_.cluster.heartbeat.period_ms));
      fast_path_grow_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        fast_path_grow_scheduled_ = false;
        PublishSnapshot(/*grow_now=*/true);
      });
    }
    AttachFastPath(*snapshot, AlignedTo(*snapshot, fast_installed_));
    return;
  }
  if (s.ok() && rewrite) {  // steps 4-5
    auto between = std::make_shared<MapSnapshot>(*snapshot);
    AttachFastPath(*between, AlignedTo(*between, fast_installed_));
    snapshots_.Publish(std::move(between));
    s = diversion_->UpdateFastPath(AlignedTo(*snapshot, next));
    if (s.ok()) {
      fast_installed_ = next;
      fast_chain_has_cuts_ = false;
    }
  }
  if (s.ok()) {
    AttachFastPath(*snapshot, AlignedTo(*snapshot, fast_installed_));
    fast_path_last_switch_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return;
  }
  ++fast_path_errors_;
  fast_path_failed_ = true;
  std::string line = "kernel fast path off until the next reload, the data path delivers "
                     "everything: " + s.message();
  // The kernel kept its old chain, whose owners may no longer be this host's: remove it.
  if (Status t = diversion_->UpdateFastPath(AlignedTo(*snapshot, {})); t.ok()) {
    fast_installed_.clear();
    fast_chain_has_cuts_ = false;
  } else {
    line += "; removing the old fast path failed too: " + t.message();
  }
  LogError("datapath", line);
  NoteEvent(line);
  // The data path delivers everything (if even the removal failed, some packets twice).
  AttachFastPath(*snapshot, {});
}

void Agent::NoteEvent(std::string event) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  events_.push_back(std::string(stamp) + " " + std::move(event));
  while (events_.size() > kMaxEvents) events_.pop_front();
}

std::vector<HostRuleParams> Agent::EffectiveRuleParams() const {
  std::vector<HostRuleParams> params = config_.host.rule_params;
  // A rule this host disabled or drains is announced with weight 0: the others take it over.
  for (size_t i = 0; i < params.size() && i < rule_control_.size(); ++i) {
    if (rule_control_[i] != RuleControl::kEnabled) params[i].weight = 0;
  }
  return params;
}

Result<NodeConfig> Agent::PrepareReload() {
  auto loaded = LoadConfigFile(config_.source_path);
  if (!loaded.ok()) {
    return Status::Error(loaded.status().code(),
                         "reload refused, the running configuration stays in force:\n" +
                             loaded.status().message());
  }
  NodeConfig& next = loaded.value();
  const ClusterConfig& cur = config_.cluster;
  std::string needs_restart;
  if (next.cluster.name != cur.name) needs_restart = "cluster.name";
  else if (next.cluster.vips != cur.vips) needs_restart = "cluster.vips";
  else if (next.cluster.mac_mode != cur.mac_mode) needs_restart = "cluster.mac_mode";
  else if (next.cluster.heartbeat.period_ms != cur.heartbeat.period_ms ||
           next.cluster.heartbeat.tolerance != cur.heartbeat.tolerance ||
           next.cluster.heartbeat.port != cur.heartbeat.port)
    needs_restart = "cluster.heartbeat";
  else if (next.cluster.control.remote != cur.control.remote ||
           next.cluster.control.port != cur.control.port)
    needs_restart = "cluster.control";
  else if (next.cluster.connection_tracking != cur.connection_tracking)
    needs_restart = "cluster.connection_tracking";
  else if (next.host.id != config_.host.id) needs_restart = "host.id";
  else if (next.host.interface != config_.host.interface) needs_restart = "host.interface";
  else if (next.host.dedicated_address != config_.host.dedicated_address)
    needs_restart = "host.dedicated_address";
  if (!needs_restart.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "reload refused: " + needs_restart +
                             " changed, which takes a restart of nlbd; the running configuration "
                             "stays in force");
  }
  auto key = ReadClusterKey(next.cluster.heartbeat.key_file);
  if (!key.ok()) {
    return Status::Error(key.status().code(), "reload refused: " + key.status().message());
  }
  if (std::vector<uint8_t>(key->begin(), key->end()) != key_) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "reload refused: the cluster key changed, which takes a restart of nlbd");
  }
  return loaded;
}

Status Agent::Reload() {
  ++reloads_;
  auto prepared = PrepareReload();
  if (!prepared.ok()) {
    ++reload_failures_;
    NoteEvent(prepared.status().message());
    return prepared.status();
  }
  NodeConfig& next = prepared.value();
  const ClusterConfig& cur = config_.cluster;
  const bool rules_changed = next.cluster.port_rules != cur.port_rules;
  // Tracking, the moving buckets and the assignment's seed follow a rule by name, so a kept rule
  // whose number changes keeps its buckets and connections (docs/connection-tracking.md).
  std::string renumbered;
  for (size_t i = 0; i < cur.port_rules.size(); ++i) {
    for (size_t j = 0; j < next.cluster.port_rules.size(); ++j) {
      if (i == j || next.cluster.port_rules[j].name != cur.port_rules[i].name) continue;
      renumbered += (renumbered.empty() ? "" : ", ") + cur.port_rules[i].name + " " +
                    std::to_string(i) + " -> " + std::to_string(j);
    }
  }
  config_ = std::move(next);
  fast_path_failed_ = false;  // a reload tries the kernel fast path again
  if (rules_changed) rule_control_.assign(config_.cluster.port_rules.size(), RuleControl::kEnabled);
  std::vector<std::string> names = RuleNamesOf(config_.cluster);
  if (names != numbering_->names) {
    numbering_ = std::make_shared<const RuleNumbering>(RuleNumbering{numbering_->epoch + 1, names});
  }
  convergence_->SetRules(ClusterDigest(config_.cluster), RuleModes(config_.cluster),
                         std::move(names), EffectiveRuleParams(), std::chrono::steady_clock::now(),
                         ClientKeysOf(config_.cluster.port_rules));
  PublishSnapshot();
  const std::string line = "reloaded " + config_.source_path + " (config digest " +
                           DigestHex(ClusterDigest(config_.cluster)).substr(0, 12) + ")";
  LogNotice("reload", line);
  NoteEvent(line);
  if (!renumbered.empty()) {
    LogInfo("reload", "reload renumbered rules (" + renumbered +
                          "): their buckets and connections follow them by name");
  }
  Tick();
  ScheduleTick();
  return Status::Ok();
}

std::string Agent::HandleControl(const std::vector<std::string>& words,
                                 const RequestOrigin& origin) {
  const uint16_t host = config_.host.id;
  if (Status s = ValidateControlRequest(words); !s.ok()) {
    return Refusal(host, "invalid", s.message());
  }
  const std::string& command = words.front();
  const bool reads_only =
      command == "query" || command == "params" || command == "display" || command == "report";
  if (origin.remote() && suspended_ && !reads_only && command != "resume") {
    ++refused_remote_;
    const std::string line = "refused '" + command + "' from " + origin.peer.ToString() +
                             ": this host is suspended";
    LogWarning("control", line);
    NoteEvent(line);
    return Refusal(host, "refused",
                   "host " + std::to_string(host) +
                       " is suspended: remotely it answers only query, params, report and "
                       "resume");
  }
  if (command == "query") return Query();
  if (command == "params" || command == "display") return Params();
  if (command == "report") return Report();
  if (command == "start") return SetRole(HostRole::kActive, "started");
  if (command == "stop") return SetRole(HostRole::kStopped, "stopped");
  if (command == "drainstop") {
    if (role_ == HostRole::kStopped) {
      return Refusal(host, "already", "host " + std::to_string(host) + " is already stopped");
    }
    // The host stops by itself once its last tracked connection ends (CompleteDrainstop).
    return SetRole(HostRole::kDraining, "draining");
  }
  if (command == "suspend") {
    if (suspended_) return Refusal(host, "already", "host is already suspended");
    suspended_ = true;
    return SetRole(HostRole::kSuspended, "suspended");
  }
  if (command == "resume") {
    if (!suspended_) return Refusal(host, "already", "host is not suspended");
    suspended_ = false;
    return SetRole(HostRole::kStopped, "resumed (stopped; start it to handle traffic)");
  }
  if (command == "enable" || command == "disable" || command == "drain") {
    auto selector = ParseRuleSelector(words[1]);
    if (!selector.ok()) return Refusal(host, "invalid", selector.status().message());
    const RuleControl control = command == "enable"    ? RuleControl::kEnabled
                                : command == "disable" ? RuleControl::kDisabled
                                                       : RuleControl::kDraining;
    return SetRuleControl(selector.value(), control);
  }
  if (command == "reload-check") {
    auto prepared = PrepareReload();
    if (!prepared.ok()) return Refusal(host, "invalid", prepared.status().message());
    JsonWriter w;
    w.BeginObject().Key("ok").Bool(true).Key("host").Uint(host);
    w.Key("config_file").String(config_.source_path);
    w.Key("digest").String(DigestHex(ClusterDigest(prepared->cluster)));
    w.Key("running_digest").String(DigestHex(ClusterDigest(config_.cluster)));
    w.EndObject();
    return w.str();
  }
  if (command == "reload") {
    if (Status s = Reload(); !s.ok()) return Refusal(host, "invalid", s.message());
    return Done(host, "reloaded " + config_.source_path);
  }
  return Refusal(host, "invalid", "'" + command + "' is not a command an agent answers");
}

std::string Agent::SetRole(HostRole role, const char* verb) {
  const uint16_t host = config_.host.id;
  if (role == role_) {
    return Refusal(host, "already", "host " + std::to_string(host) + " is already " + verb);
  }
  if (suspended_ && role != HostRole::kSuspended && role_ == HostRole::kSuspended &&
      role != HostRole::kStopped) {
    return Refusal(host, "refused", "host is suspended: resume it first");
  }
  role_ = role;
  convergence_->SetRole(role, std::chrono::steady_clock::now());
  PublishSnapshot();
  const std::string line = std::string("host ") + verb + " by operator";
  LogNotice("control", line);
  NoteEvent(line);
  Tick();
  ScheduleTick();
  return Done(host, line);
}

std::string Agent::SetRuleControl(const RuleSelector& selector, RuleControl control) {
  const uint16_t host = config_.host.id;
  const bool all = selector.all();
  const uint32_t port = selector.port.value_or(0);
  const std::optional<IpAddress>& vip = selector.vip;
  std::vector<size_t> matched;
  for (size_t i = 0; i < config_.cluster.port_rules.size(); ++i) {
    const PortRule& r = config_.cluster.port_rules[i];
    if (all) {
      matched.push_back(i);
      continue;
    }
    if (port < r.first_port || port > r.last_port) continue;
    if (vip && r.vip && *r.vip != *vip) continue;
    if (vip && !r.vip) {
      bool cluster_vip = false;
      for (const IpAddress& v : config_.cluster.vips) cluster_vip |= v == *vip;
      if (!cluster_vip) continue;
    }
    matched.push_back(i);
  }
  if (matched.empty()) {
    return Refusal(host, "not_found", "no port rule covers '" + selector.ToString() + "'");
  }
  bool changed = false;
  for (size_t i : matched) {
    changed |= rule_control_[i] != control;
    rule_control_[i] = control;
  }
  static const char* const kVerb[] = {"enabled", "disabled", "draining"};
  const char* verb = kVerb[static_cast<int>(control)];
  if (!changed) {
    return Refusal(host, "already", "'" + selector.ToString() + "' is already " + verb);
  }
  convergence_->SetRuleParams(EffectiveRuleParams(), std::chrono::steady_clock::now());
  PublishSnapshot();
  std::string names;
  for (size_t i : matched) names += (names.empty() ? "" : ", ") + config_.cluster.port_rules[i].name;
  const std::string line = "rule " + names + " " + verb + " by operator";
  LogNotice("control", line);
  NoteEvent(line);
  Tick();
  ScheduleTick();
  return Done(host, line);
}

std::string Agent::Query() const {
  const ConvergenceReport r = convergence_->Report();
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(config_.host.id);
  w.Key("cluster").String(config_.cluster.name);
  std::string state;
  if (r.local_kept_out) state = "kept out (" + std::string(KeptOutReasonName(*r.local_kept_out)) + ")";
  else if (suspended_) state = "suspended";
  else if (role_ == HostRole::kStopped) state = "stopped";
  else if (role_ == HostRole::kDraining) state = "draining";
  else if (!r.converged) state = "converging";
  else {
    const ConvergedMap* map = convergence_->CurrentMap();
    state = map != nullptr && map->default_host_id == config_.host.id ? "converged as default host"
                                                                      : "converged";
  }
  w.Key("state").String(state);
  // What the data path does, not just what convergence allows: a stopped host serves nothing.
  w.Key("converged").Bool(r.converged).Key("serving").Bool(snapshots_.Load()->serving);
  const ConvergedMap* map = convergence_->CurrentMap();
  w.Key("default_host").Uint(map != nullptr ? map->default_host_id : 0);
  w.Key("generation").Uint(r.generation);
  w.Key("members").BeginArray();
  for (const MemberReport& m : r.members) {
    w.BeginObject().Key("id").Uint(m.host_id).Key("address").String(m.dedicated_address.ToString());
    w.Key("state").String(HostStateName(m.state)).EndObject();
  }
  w.EndArray();
  w.Key("kept_out").BeginArray();
  for (const KeptOutHost& k : r.kept_out) {
    w.BeginObject().Key("id").Uint(k.host_id).Key("address").String(k.dedicated_address.ToString());
    w.Key("reason").String(KeptOutReasonName(k.reason)).EndObject();
  }
  w.EndArray();
  w.Key("last_convergence").BeginObject().Key("cause").String(r.last_cause);
  w.Key("duration_ms").Int(std::chrono::duration_cast<std::chrono::milliseconds>(r.last_duration).count());
  w.EndObject();
  w.EndObject();
  return w.str();
}

std::string Agent::Params() const {
  const ClusterConfig& c = config_.cluster;
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(config_.host.id);
  w.Key("config_file").String(config_.source_path);
  w.Key("cluster").BeginObject();
  w.Key("name").String(c.name).Key("digest").String(DigestHex(ClusterDigest(c)));
  w.Key("vips").BeginArray();
  for (const IpAddress& v : c.vips) w.String(v.ToString());
  w.EndArray();
  w.Key("mac_mode").String(MacModeName(c.mac_mode));
  w.Key("heartbeat").BeginObject().Key("period_ms").Uint(c.heartbeat.period_ms);
  w.Key("tolerance").Uint(c.heartbeat.tolerance).Key("port").Uint(c.heartbeat.port).EndObject();
  w.Key("control").BeginObject().Key("remote").Bool(c.control.remote);
  w.Key("port").Uint(c.control.port).EndObject();
  w.Key("port_rules").BeginArray();
  for (size_t i = 0; i < c.port_rules.size(); ++i) {
    const PortRule& r = c.port_rules[i];
    const HostRuleParams& p = config_.host.rule_params[i];
    static const char* const kControl[] = {"enabled", "disabled", "draining"};
    w.BeginObject().Key("name").String(r.name).Key("covers").String(r.Describe());
    w.Key("mode").String(FilteringModeName(r.mode)).Key("affinity").String(AffinityName(r.affinity));
    w.Key("weight").Uint(p.weight).Key("priority").Uint(p.priority);
    w.Key("state").String(kControl[static_cast<int>(rule_control_[i])]).EndObject();
  }
  w.EndArray().EndObject();
  w.Key("host_config").BeginObject().Key("id").Uint(config_.host.id);
  w.Key("interface").String(config_.host.interface);
  w.Key("dedicated_address").String(config_.host.dedicated_address.ToString());
  w.Key("kernel_fast_path").Bool(config_.host.kernel_fast_path);
  w.Key("role").String(HostRoleName(role_)).Key("suspended").Bool(suspended_).EndObject();
  w.Key("events").BeginArray();
  for (const std::string& e : events_) w.String(e);
  w.EndArray();
  w.EndObject();
  return w.str();
}

std::string Agent::Report() const {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(config_.host.id);
  const auto snapshot = snapshots_.Load();
  w.Key("rules").BeginArray();
  for (const RuleMap& rule : snapshot->rules) {
    uint32_t owned = 0;
    for (uint16_t owner : rule.bucket_owner) owned += owner == config_.host.id ? 1 : 0;
    w.BeginObject().Key("name").String(rule.rule.name).Key("buckets_owned").Uint(owned);
    w.Key("buckets").Uint(rule.bucket_owner.empty() ? 0 : kBucketCount);
    w.Key("single_owner").Uint(rule.single_owner).Key("enabled").Bool(rule.enabled).EndObject();
  }
  w.EndArray();
  w.Key("packets").BeginObject();
  const DecisionCounters& d = data_path_->decisions();
  uint64_t accepted = 0, dropped = 0, accepted_bytes = 0, dropped_bytes = 0;
  for (size_t i = 0; i < static_cast<size_t>(DecisionReason::kCount); ++i) {
    const auto reason = static_cast<DecisionReason>(i);
    const bool accept = reason == DecisionReason::kOwnedBucket ||
                        reason == DecisionReason::kSingleHostOwner ||
                        reason == DecisionReason::kDefaultHost ||
                        reason == DecisionReason::kTrackedConnection;
    (accept ? accepted : dropped) += d.ReadPackets(reason);
    (accept ? accepted_bytes : dropped_bytes) += d.ReadBytes(reason);
  }
  w.Key("accepted").Uint(accepted).Key("accepted_bytes").Uint(accepted_bytes);
  w.Key("dropped").Uint(dropped).Key("dropped_bytes").Uint(dropped_bytes);
  w.Key("by_reason").BeginObject();
  for (size_t i = 0; i < static_cast<size_t>(DecisionReason::kCount); ++i) {
    const auto reason = static_cast<DecisionReason>(i);
    w.Key(DecisionReasonName(reason)).BeginObject().Key("packets").Uint(d.ReadPackets(reason));
    w.Key("bytes").Uint(d.ReadBytes(reason)).EndObject();
  }
  w.EndObject();
  w.Key("malformed").BeginObject();
  for (size_t i = 1; i < static_cast<size_t>(ParseVerdict::kCount); ++i) {
    const auto v = static_cast<ParseVerdict>(i);
    w.Key(ParseVerdictName(v)).Uint(d.ReadMalformed(v));
  }
  w.EndObject().EndObject();
  const DataPathCounters& p = data_path_->counters();
  const HeartbeatCounters& h = convergence_->counters();
  w.Key("errors").BeginObject();
  w.Key("delivery_errors").Uint(p.delivery_errors.load());
  w.Key("truncated").Uint(p.truncated.load());
  w.Key("capture_errors").Uint(p.capture_errors.load());
  w.Key("capture_dropped").Uint(p.capture_dropped.load());
  w.Key("neighbour_send_errors").Uint(responder_->send_errors());
  w.Key("heartbeat_malformed").Uint(h.malformed);
  w.Key("heartbeat_bad_hmac").Uint(h.bad_hmac);
  w.Key("heartbeat_wrong_cluster").Uint(h.wrong_cluster);
  w.Key("heartbeat_replayed").Uint(h.replayed);
  w.Key("heartbeat_duplicate_id").Uint(h.duplicate_id);
  w.Key("heartbeat_send_errors").Uint(heartbeats_->send_errors());
  w.Key("heartbeat_receive_errors").Uint(heartbeats_->receive_errors());
  w.Key("control_malformed").Uint(control_->malformed_requests());
  w.Key("control_refused_remote").Uint(refused_remote_);
  if (remote_control_) {
    const RemoteControlCounters& rc = remote_control_->counters();
    w.Key("remote_handshakes_refused").Uint(rc.handshakes_refused);
    w.Key("remote_handshakes_throttled").Uint(rc.handshakes_throttled);
    w.Key("remote_deadlines_expired").Uint(rc.deadlines_expired);
    w.Key("remote_malformed_requests").Uint(rc.malformed_requests);
  }
  w.Key("reload_failures").Uint(reload_failures_);
  w.EndObject();
  w.Key("heartbeats").BeginObject().Key("sent").Uint(h.sent).Key("accepted").Uint(h.accepted);
  w.Key("looped_back").Uint(h.looped_back).EndObject();
  w.Key("neighbour").BeginObject().Key("answers").Uint(responder_->answers());
  w.Key("announcements").Uint(responder_->announcements()).EndObject();
  w.Key("delivered").Uint(p.delivered.load());
  // The kernel fast path: packets the data path decided the kernel delivers, and the kernel's
  // own count of those it did (equal while the map is steady and the capture lost nothing).
  w.Key("fast_path").BeginObject();
  w.Key("enabled").Bool(config_.host.kernel_fast_path && !fast_path_failed_);
  w.Key("decided").Uint(p.kernel_delivered.load());
  if (auto kernel = diversion_->FastPathPackets(); kernel.ok()) {
    w.Key("kernel_packets").Uint(kernel.value());
  } else {
    w.Key("kernel_packets").Null();
  }
  uint64_t buckets = 0;
  for (const FastPathRule& f : fast_installed_) buckets += f.buckets.Count();
  w.Key("kernel_buckets").Uint(buckets).Key("errors").Uint(fast_path_errors_);
  // The kernel has yet to take buckets this host gained (or to drop a cut's lines).
  w.Key("settling").Bool(fast_path_grow_scheduled_ || fast_chain_has_cuts_);
  w.Key("last_switch_ms").Uint(static_cast<uint64_t>(fast_path_last_switch_.count())).EndObject();
  // Connection tracking: this host's tracked connections and its moving buckets per rule.
  const DescriptorTableCounters& t = table_->counters();
  w.Key("connections").BeginObject().Key("tracked").Uint(table_->size());
  w.Key("capacity").Uint(table_->capacity()).Key("memory_bytes").Uint(table_->memory_bytes());
  w.Key("added").Uint(t.added.load()).Key("closed").Uint(t.closed.load());
  w.Key("removed_closed").Uint(t.removed_closed.load()).Key("removed_idle").Uint(t.removed_idle.load());
  w.Key("removed_moved").Uint(t.removed_moved.load()).Key("removed_other").Uint(t.removed_other.load());
  w.Key("evicted").Uint(t.evicted.load()).Key("table_full").Uint(t.table_full.load());
  w.Key("rules").BeginArray();
  for (size_t i = 0; i < config_.cluster.port_rules.size() && i < kMaxTrackedRules; ++i) {
    w.BeginObject().Key("name").String(config_.cluster.port_rules[i].name);
    w.Key("tracked").Uint(table_->RuleConnections(static_cast<uint32_t>(i)));
    w.Key("moving_away_buckets").Uint(convergence_->HoldingBuckets(i));
    w.Key("moving_in_buckets").Uint(convergence_->ContestedBuckets(i)).EndObject();
  }
  w.EndArray().EndObject();
  w.Key("moving_reports").BeginObject().Key("sent").Uint(h.reports_sent);
  w.Key("accepted").Uint(h.reports_accepted).Key("dropped").Uint(h.reports_dropped).EndObject();
  w.EndObject();
  return w.str();
}

}  // namespace nlb::agent
