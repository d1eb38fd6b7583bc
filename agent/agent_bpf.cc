// agent_bpf.cc: the BPF back end's set-up (host.data_path bpf, xdp or auto;
// docs/bpf-data-plane.md),
// and what "the data path" answers whichever back end runs: the generation in force, the
// decision counters, the kernel's statistics and the report's back-end objects. Loop thread.
#include <optional>

#include "agent/agent.h"
#include "agent/log.h"

namespace nlb::agent {

Status Agent::SetUpBpf(const ClusterMac& cluster_mac, PublisherHooks hooks) {
  const ClusterConfig& cluster = config_.cluster;
  // The kernel connection table's sizes and timeouts (docs/connection-tracking.md).
  BpfPlane::LoadOptions load;
  const bool xdp = config_.host.data_path == DataPathMode::kXdp;
  load.hook = xdp ? BpfPlane::Hook::kXdp : BpfPlane::Hook::kTc;
  load.flow_capacity = cluster.connection_tracking.capacity;
  load.idle_timeout = std::chrono::seconds(cluster.connection_tracking.idle_timeout_s);
  load.close_delay = std::chrono::seconds(cluster.connection_tracking.close_delay_s);
  auto plane = BpfPlane::Load(load);
  if (!plane.ok()) return plane.status();
  // nlbd's nftables table stays, without VIPs (its ingress chain drops nothing, or it would drop
  // what the program accepts: netdev ingress runs after tc ingress): writing it replaces the
  // diversion a crashed capture-mode nlbd left, and in unicast mode it keeps the egress rewrite
  // of the source MAC. Otherwise it holds nothing.
  DiversionOptions table_options;
  table_options.cluster_name = cluster.name;
  table_options.interface = config_.host.interface;
  if (cluster.mac_mode == MacMode::kUnicast) {
    table_options.cluster_mac = cluster_mac.mac;
    table_options.masked_source = MaskedSourceMac(cluster_mac, config_.host.id);
  }
  auto table = NftProgrammer::Create(table_options);
  if (!table.ok()) return table.status();
  if (Status s = table.value()->Install(); !s.ok()) return s;
  // Loaded with the lease withdrawn: until the first map and heartbeat it drops the VIPs'
  // traffic, as the diversion does. XDP: after the cluster MAC is bound (SetUpDataPath), since
  // the program delivers owned frames to the interface's MAC as it is at Attach.
  // A crashed nlbd's program at the other hook would still decide by its own maps (its lease
  // over, so dropping the VIPs' traffic) before or after this one: it goes first.
  bool removed = false;
  Status leftover = xdp ? DetachLeftoverTcFilter(config_.host.interface, &removed)
                        : DetachLeftoverXdp(StateDirectory(), config_.host.interface, &removed);
  if (!leftover.ok()) {
    table.value()->Remove();
    return leftover;
  }
  if (removed) {
    LogNotice("bpf", std::string("removed a crashed nlbd's ") +
                         (xdp ? "tc filter" : "XDP program") + " from " + config_.host.interface);
  }
  std::unique_ptr<ProgramAttachment> attachment;
  if (xdp) {
    attachment = std::make_unique<XdpAttachment>(
        config_.host.interface, plane.value()->program_fd(), plane.value()->xdp_settings_fd(),
        plane.value()->xdp_deliver_fd(), StateDirectory());
  } else {
    attachment =
        std::make_unique<TcAttachment>(config_.host.interface, plane.value()->program_fd());
  }
  if (Status s = attachment->Attach(); !s.ok()) {
    table.value()->Remove();
    return s;
  }
  // Its callbacks run on the loop, once Start is done and bpf_ is set.
  auto monitor = NftMonitor::Open(
      io_, [this] { return worker_->thread_id(); },
      [this] { bpf_->CheckTable("somebody else changed the ruleset"); });
  if (!monitor.ok()) {
    table.value()->Remove();
    return monitor.status();  // the attachment detaches as it goes
  }
  const auto period = std::chrono::milliseconds(cluster.heartbeat.period_ms);
  bpf_plane_ = std::move(plane.value());
  attachment_ = std::move(attachment);
  bpf_kernel_ = std::make_unique<BpfPlaneKernel>(*bpf_plane_, *attachment_);
  bpf_ = std::make_unique<BpfSwitch>(
      clock_, snapshots_, *worker_, *bpf_kernel_, config_.host.interface,
      KernelDeadline(period, cluster.heartbeat.tolerance), std::move(hooks));
  kernel_ = std::move(table.value());
  nft_monitor_ = std::move(monitor.value());
  bpf_->UseTable(kernel_.get());
  bpf_flows_ = std::make_unique<BpfFlowTable>(*bpf_plane_);
  bpf_->UseFlowTable(bpf_flows_.get());
  bpf_connections_ = std::make_unique<BpfConnections>(
      *worker_, *bpf_flows_, [this] { return bpf_->in_kernel(); },
      std::chrono::seconds(cluster.connection_tracking.half_open_hold_s));
  publisher_ = bpf_.get();
  data_path_why_ =
      config_.host.data_path == DataPathMode::kAuto
          ? "auto: the BPF data plane loaded and attached"
          : "configured (host.data_path: " + std::string(DataPathModeName(config_.host.data_path)) +
                ")";
  return Status::Ok();
}

uint64_t Agent::AppliedGeneration() const {
  // BPF: a packet decides by one half from start to end, and the next Publish waits for a grace
  // period before it rewrites the half left behind; after the flip every new packet uses it.
  return bpf_ ? bpf_->applied_generation() : data_path_->AppliedGeneration();
}

DecisionTotals Agent::Decisions() const {
  return bpf_ ? DecisionTotals::Of(bpf_->counters()) : DecisionTotals::Of(data_path_->decisions());
}

const KernelStats& Agent::kernel_stats() const {
  return bpf_ ? bpf_->stats() : capture_switch_->stats();
}

void Agent::ReportBackEnd(JsonWriter& w) const {
  const KernelStats& k = kernel_stats();
  w.Key("data_path").BeginObject().Key("backend").String(bpf_ ? "bpf" : "capture");
  // Where the program runs (host.data_path xdp: the native XDP hook); empty for the capture.
  const char* hook = !bpf_plane_ ? "" : bpf_plane_->hook() == BpfPlane::Hook::kXdp ? "xdp" : "tc";
  w.Key("hook").String(hook);
  w.Key("configured").String(DataPathModeName(config_.host.data_path));
  w.Key("why").String(data_path_why_);
  // BPF: the counters above are as of the last of these checks (one per heartbeat period).
  w.Key("checks").Uint(bpf_ ? bpf_->checks() : 0);
  // A map is still on its way into the kernel (BPF; the capture takes a map at once).
  w.Key("settling").Bool(publisher_->settling());
  w.Key("last_switch_ms").Uint(static_cast<uint64_t>(k.last_update.count() / 1000));
  w.EndObject();
  // The kernel programmer (agent/capture_switch.h, agent/bpf_switch.h). Capture: only repairs of
  // the nftables table; nothing in the kernel takes a lease.
  w.Key("kernel").BeginObject().Key("updates").Uint(k.updates);
  w.Key("last_update_us").Int(k.last_update.count());
  w.Key("slowest_update_us").Int(k.slowest_update.count());
  w.Key("errors").Uint(k.errors).Key("repairs").Uint(k.repairs);
  w.Key("last_repair_us").Int(k.last_repair.count());
  w.Key("foreign_changes").Uint(nft_monitor_ ? nft_monitor_->foreign_changes() : 0);
  w.Key("lease_renewals").Uint(k.lease_renewals).Key("lease_errors").Uint(k.lease_errors);
  w.EndObject();
}

uint64_t Agent::TrackedConnections() const {
  if (!bpf_connections_) return table_->size();
  const BpfFlowCounters& c = bpf_connections_->counters();
  return c.tracked + c.half_open;
}

uint64_t Agent::TrackedConnections(size_t rule) const {
  if (rule >= kMaxTrackedRules) return 0;
  return bpf_flows_ ? bpf_flows_->RuleConnections(static_cast<uint32_t>(rule))
                    : table_->RuleConnections(static_cast<uint32_t>(rule));
}

uint64_t Agent::ConnectionCapacity() const {
  if (!bpf_plane_) return table_->capacity();
  // Established flows and half-open ones are in two maps, each with its own room.
  const BpfPlane::LoadOptions& o = bpf_plane_->load_options();
  return uint64_t{o.flow_capacity} + o.half_open_capacity;
}

void Agent::ReportConnectionTable(JsonWriter& w) const {
  if (!bpf_connections_) {
    const DescriptorTableCounters& t = table_->counters();
    w.Key("backend").String("user_space");
    w.Key("tracked").Uint(table_->size());
    w.Key("capacity").Uint(table_->capacity()).Key("memory_bytes").Uint(table_->memory_bytes());
    w.Key("added").Uint(t.added.load()).Key("closed").Uint(t.closed.load());
    w.Key("removed_closed").Uint(t.removed_closed.load());
    w.Key("removed_idle").Uint(t.removed_idle.load());
    w.Key("removed_moved").Uint(t.removed_moved.load());
    w.Key("removed_other").Uint(t.removed_other.load());
    w.Key("evicted").Uint(t.evicted.load()).Key("table_full").Uint(t.table_full.load());
    return;
  }
  // The kernel's table (docs/connection-tracking.md, "The kernel table"), as of the last sweep.
  // A sweep cannot tell an idle flow from a closed one: both are removed_idle ("expired").
  const BpfFlowCounters& c = bpf_connections_->counters();
  const BpfPlane::LoadOptions& o = bpf_plane_->load_options();
  w.Key("backend").String("kernel");
  w.Key("tracked").Uint(TrackedConnections()).Key("capacity").Uint(ConnectionCapacity());
  // LRU hash maps are preallocated: about 120 bytes an entry as the kernel accounts them.
  w.Key("memory_bytes").Uint(ConnectionCapacity() * 120);
  w.Key("established").Uint(c.tracked).Key("half_open").Uint(c.half_open);
  w.Key("half_open_capacity").Uint(o.half_open_capacity);
  // Half-open entries past their hold: still tracked, no longer keeping a moved bucket busy.
  w.Key("half_open_past_hold").Uint(c.half_open_past_hold);
  w.Key("added").Uint(c.program[NLB_FLOW_HALF_OPEN_ADDED]);
  w.Key("promoted").Uint(c.program[NLB_FLOW_PROMOTED]);
  w.Key("closed").Uint(c.program[NLB_FLOW_CLOSED]);
  w.Key("removed_closed").Uint(0).Key("removed_idle").Uint(c.swept_expired);
  w.Key("removed_moved").Uint(c.swept_not_kept);
  w.Key("removed_other").Uint(c.program[NLB_FLOW_FORGOTTEN] + c.renumber_removed);
  // The LRU pushes out the least recent entry when a map is full: half-open ones first (a SYN
  // flood churns only that map); insert_failed is a flow the program could not track at all.
  w.Key("evicted").Uint(c.evicted_flows + c.evicted_half_open);
  w.Key("evicted_half_open").Uint(c.evicted_half_open);
  w.Key("table_full").Uint(c.program[NLB_FLOW_INSERT_FAILED]);
  w.Key("sweeps").Uint(bpf_connections_->sweeps());
  w.Key("sweep_errors").Uint(bpf_connections_->errors());
  w.Key("last_sweep_us").Int(bpf_connections_->last_sweep().count());
  w.Key("slowest_sweep_us").Int(bpf_connections_->slowest_sweep().count());
}

}  // namespace nlb::agent
