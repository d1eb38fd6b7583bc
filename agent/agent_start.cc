// agent_start.cc: Agent::Start, the checks and set-up in order, and the data path's set-up
// (capture, TUN, neighbour answers, the nftables table, its worker and the capture's switch,
// the HostLoop; the BPF back end's kernel part is in agent_bpf.cc). Everything here runs once,
// before the loop runs.
#include <sys/random.h>

#include "agent/agent.h"
#include "agent/interface_info.h"
#include "agent/log.h"
#include "common/control_socket_path.h"
#include "config/cluster_key.h"
#include "config/config_digest.h"

namespace nlb::agent {

namespace asio = boost::asio;

namespace {

uint64_t RandomBootId() {
  uint64_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
      id = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
  }
  return id;
}

}  // namespace

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
  agent->loop_->UseSink(agent->heartbeats_.get());

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
      [self](std::span<const ReceivedDatagram> batch) { self->loop_->OnDatagrams(batch); });
  if (!agent->heartbeats_->kernel_stamps()) {
    LogWarning("heartbeat",
               "the kernel refused arrival stamps (SO_TIMESTAMPNS): heartbeats are "
               "stamped when read");
  }
  agent->WaitForSignal();
  agent->StartHealthChecks();
  agent->ScheduleTick();
  for (const std::string& line : c.warnings) LogWarning("config", line);
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

  // The kernel part goes in before the VIPs exist locally, so the kernel never takes one itself.
  // At start the loop does not run yet: this set-up may wait for the kernel.
  worker_ = std::make_unique<KernelWorker>(io_);
  if (config_.host.data_path != DataPathMode::kCapture) {
    if (Status s = SetUpBpf(*cluster_mac, KernelHooks()); !s.ok()) {
      // Only auto falls back: bpf and xdp were asked for by name.
      if (config_.host.data_path != DataPathMode::kAuto) return s;
      data_path_why_ = "auto: the BPF data plane is unavailable (" + s.message() + ")";
      LogWarning("datapath", data_path_why_ + "; the capture decides instead");
      NoteEvent(data_path_why_ + "; the capture decides instead");
    }
  } else {
    data_path_why_ = "configured (host.data_path: capture)";
  }
  if (publisher_ == nullptr) {
    if (Status s = SetUpNftables(*cluster_mac); !s.ok()) return s;
  }
  const auto period = std::chrono::milliseconds(cluster.heartbeat.period_ms);
  loop_ = std::make_unique<HostLoop>(clock_, config_, *convergence_, snapshots_, *publisher_,
                                     static_cast<HostLoopOwner&>(*this),
                                     LeaseLength(period, cluster.heartbeat.tolerance));

  // With the BPF back end the tap takes only neighbour requests: the program decides the rest.
  CaptureOptions capture_options{config_.host.interface, cluster.vips};
  capture_options.neighbours_only = bpf_ != nullptr;
  auto capture = PacketCapture::Open(capture_options);
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
  if (Status s = data_path_->Start(); !s.ok()) return s;
  LogInfo("datapath",
          std::string(!bpf_ ? "capturing"
                      : bpf_plane_->hook() == BpfPlane::Hook::kXdp
                          ? "BPF data plane (native XDP), neighbour requests captured"
                          : "BPF data plane (tc clsact ingress), neighbour requests captured") +
              " on " + config_.host.interface + ", cluster MAC " + FormatMac(cluster_mac->mac) +
              " (" + std::string(MacModeName(cluster.mac_mode)) + "), TUN " + tun_->name() +
              (kernel_ ? ", nftables table " + kernel_->table() : std::string()) + "; " +
              data_path_why_);
  return Status::Ok();
}

PublisherHooks Agent::KernelHooks() {
  PublisherHooks hooks;
  hooks.announce = [this] { loop_->SendHeld(); };
  hooks.on_stuck = [this](const std::string& why) { loop_->Block(HostLoop::kBlockKernel, why); };
  hooks.on_recovered = [this] { loop_->Unblock(HostLoop::kBlockKernel); };
  hooks.on_event = [this](const std::string& line) {
    LogError("kernel", line);
    NoteEvent(line);
  };
  return hooks;
}

Status Agent::SetUpNftables(const ClusterMac& cluster_mac) {
  const ClusterConfig& cluster = config_.cluster;
  DiversionOptions diversion_options;
  diversion_options.cluster_name = cluster.name;
  diversion_options.interface = config_.host.interface;
  diversion_options.vips = cluster.vips;
  if (cluster.mac_mode == MacMode::kUnicast) {
    diversion_options.cluster_mac = cluster_mac.mac;
    diversion_options.masked_source = MaskedSourceMac(cluster_mac, config_.host.id);
  }
  auto kernel = NftProgrammer::Create(diversion_options);
  if (!kernel.ok()) return kernel.status();
  kernel_ = std::move(kernel.value());
  if (Status s = kernel_->Install(); !s.ok()) return s;
  capture_switch_ =
      std::make_unique<CaptureSwitch>(snapshots_, *worker_, *kernel_, KernelHooks().on_event);
  auto monitor = NftMonitor::Open(
      io_, [this] { return worker_->thread_id(); },
      [this] { capture_switch_->CheckTable("somebody else changed the ruleset"); });
  if (!monitor.ok()) return monitor.status();
  nft_monitor_ = std::move(monitor.value());
  publisher_ = capture_switch_.get();
  return Status::Ok();
}

}  // namespace nlb::agent
