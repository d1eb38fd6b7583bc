// agent_bpf.cc: the BPF back end's set-up (host.data_path bpf or auto; docs/bpf-data-plane.md),
// and what "the data path" answers whichever back end runs: the generation in force, the
// decision counters, the kernel's statistics and the report's back-end objects. Loop thread.
#include "agent/agent.h"

#include <optional>
#include "agent/log.h"

namespace nlb::agent {

Status Agent::SetUpBpf(const ClusterMac& cluster_mac, FastPathSwitchHooks hooks) {
  const ClusterConfig& cluster = config_.cluster;
  auto plane = BpfPlane::Load();
  if (!plane.ok()) return plane.status();
  // nlbd's nftables table stays, without VIPs or rules (its ingress chain drops nothing, or it
  // would drop what the program accepts): it replaces a table a crashed capture-mode nlbd left,
  // and in unicast mode it keeps the egress rewrite of the source MAC.
  DiversionOptions table_options;
  table_options.cluster_name = cluster.name;
  table_options.interface = config_.host.interface;
  if (cluster.mac_mode == MacMode::kUnicast) {
    table_options.cluster_mac = cluster_mac.mac;
    table_options.masked_source = MaskedSourceMac(cluster_mac, config_.host.id);
  }
  auto table = NftProgrammer::Create(table_options);
  if (!table.ok()) return table.status();
  if (Status s = table.value()->Install({}); !s.ok()) return s;
  // Loaded with the lease withdrawn: until the first map and heartbeat it drops the VIPs'
  // traffic, as the diversion does.
  auto tc = std::make_unique<TcAttachment>(config_.host.interface, plane.value()->program_fd());
  if (Status s = tc->Attach(); !s.ok()) {
    table.value()->Remove();
    return s;
  }
  // Its callbacks run on the loop, once Start is done and bpf_ is set.
  auto monitor = NftMonitor::Open(
      io_, [this] { return worker_->thread_id(); },
      [this] { bpf_->CheckTable("somebody else changed the ruleset"); });
  if (!monitor.ok()) {
    table.value()->Remove();
    return monitor.status();  // tc detaches as it goes
  }
  const auto period = std::chrono::milliseconds(cluster.heartbeat.period_ms);
  bpf_plane_ = std::move(plane.value());
  tc_ = std::move(tc);
  bpf_kernel_ = std::make_unique<BpfPlaneKernel>(*bpf_plane_, *tc_);
  bpf_ = std::make_unique<BpfSwitch>(
      clock_, snapshots_, *worker_, *bpf_kernel_, config_.host.interface,
      KernelDeadline(period, cluster.heartbeat.tolerance), std::move(hooks));
  kernel_ = std::move(table.value());
  nft_monitor_ = std::move(monitor.value());
  bpf_->UseTable(kernel_.get());
  publisher_ = bpf_.get();
  data_path_why_ = config_.host.data_path == DataPathMode::kBpf
                       ? "configured (host.data_path: bpf)"
                       : "auto: the BPF data plane loaded and attached";
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
  return bpf_ ? bpf_->stats() : fast_path_->stats();
}

void Agent::ReportBackEnd(JsonWriter& w) const {
  const KernelStats& k = kernel_stats();
  w.Key("data_path").BeginObject().Key("backend").String(bpf_ ? "bpf" : "capture");
  w.Key("configured").String(DataPathModeName(config_.host.data_path));
  w.Key("why").String(data_path_why_);
  // BPF: the counters above are as of the last of these checks (one per heartbeat period).
  w.Key("checks").Uint(bpf_ ? bpf_->checks() : 0);
  w.EndObject();
  const DataPathCounters& p = data_path_->counters();
  // The kernel fast path: packets the data path decided the kernel delivers, and the kernel's
  // own count of those it did (equal while the map is steady and the capture lost nothing).
  // With the BPF back end there is no fast path: the program's counters are `packets`.
  w.Key("fast_path").BeginObject();
  w.Key("enabled").Bool(fast_path_ && fast_path_->enabled());
  w.Key("decided").Uint(p.kernel_delivered.load());
  // Read on the kernel worker (agent/kernel_count.h): a listing must not stall the loop. A value
  // older than a period is read again for the next report. BPF: no fast path, no count.
  std::optional<uint64_t> kernel_packets;
  std::optional<std::chrono::milliseconds> kernel_packets_age;
  if (kernel_count_) {
    kernel_count_->Refresh(std::chrono::milliseconds(config_.cluster.heartbeat.period_ms));
    kernel_packets = kernel_count_->packets();
    kernel_packets_age = kernel_count_->age();
  } else {
    kernel_packets = 0;
  }
  if (kernel_packets) {
    w.Key("kernel_packets").Uint(*kernel_packets);
  } else {
    w.Key("kernel_packets").Null();
  }
  if (kernel_packets_age) {
    w.Key("kernel_packets_age_ms").Int(kernel_packets_age->count());
  } else {
    w.Key("kernel_packets_age_ms").Null();
  }
  w.Key("kernel_packets_read_errors").Uint(kernel_count_ ? kernel_count_->read_errors() : 0);
  w.Key("kernel_buckets").Uint(fast_path_ ? fast_path_->kernel_buckets() : 0);
  w.Key("errors").Uint(k.errors);
  // A switch is still on its way into the kernel.
  w.Key("settling").Bool(publisher_->settling());
  w.Key("last_switch_ms").Uint(static_cast<uint64_t>(k.last_update.count() / 1000));
  w.EndObject();
  // The kernel programmer (agent/fast_path_switch.h, agent/bpf_switch.h) and the loop's health.
  w.Key("kernel").BeginObject().Key("updates").Uint(k.updates);
  w.Key("last_update_us").Int(k.last_update.count());
  w.Key("slowest_update_us").Int(k.slowest_update.count());
  w.Key("errors").Uint(k.errors).Key("repairs").Uint(k.repairs);
  w.Key("last_repair_us").Int(k.last_repair.count());
  w.Key("foreign_changes").Uint(nft_monitor_ ? nft_monitor_->foreign_changes() : 0);
  w.Key("lease_renewals").Uint(k.lease_renewals).Key("lease_errors").Uint(k.lease_errors);
  w.EndObject();
}

}  // namespace nlb::agent
