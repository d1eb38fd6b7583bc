#include "tests/support/sim_agent.h"

#include <algorithm>

#include "agent/capture_switch.h"
#include "common/decision.h"
#include "tests/support/packet_builder.h"
#include "tests/support/sim_agent_fakes.h"
#include "tests/support/sim_cluster.h"

namespace nlb::test {
namespace {

using agent::CaptureSwitch;

const IpAddress kVip = Ip("198.18.0.100");

// As SimHostConfig's rules: web (multiple-host, port 80), mail (single-host, 25), telnet (off).
std::vector<PortRule> SimRules() {
  std::vector<PortRule> rules(3);
  const char* names[] = {"web", "mail", "telnet"};
  const uint16_t ports[] = {80, 25, 23};
  const FilteringMode modes[] = {FilteringMode::kMultipleHost, FilteringMode::kSingleHost,
                                 FilteringMode::kDisabled};
  for (size_t i = 0; i < rules.size(); ++i) {
    rules[i].name = names[i];
    rules[i].vip = kVip;
    rules[i].first_port = rules[i].last_port = ports[i];
    rules[i].protocol = Protocol::kTcp;
    rules[i].mode = modes[i];
    rules[i].affinity = Affinity::kNone;
  }
  return rules;
}

NodeConfig SimNodeConfig(uint16_t host_id, const SimAgentOptions& options) {
  NodeConfig config;
  config.cluster.name = "sim";
  config.cluster.port_rules = SimRules();
  config.cluster.vips = {kVip};
  config.cluster.heartbeat.period_ms = static_cast<uint32_t>(options.period.count());
  config.cluster.heartbeat.tolerance = options.tolerance;
  config.host.id = host_id;
  return config;
}

}  // namespace

struct SimAgentCluster::Host {
  Host(SimAgentCluster& cluster, int index, uint16_t host_id, uint64_t boot_id,
       const SimAgentOptions& options)
      : config(SimNodeConfig(host_id, options)),
        clock(cluster, index),
        sink(cluster.network_, cluster, index),
        convergence(ConvergenceOf(host_id, boot_id, options), cluster.now()),
        jobs(cluster, index, options.kernel_delay),
        publisher(snapshots, jobs, kernel,
                  [this](const std::string& line) { owner.NoteEvent(line); }),
        loop(clock, config, convergence, snapshots, publisher, owner,
             agent::LeaseLength(options.period, options.tolerance)) {}
  static ConvergenceConfig ConvergenceOf(uint16_t host_id, uint64_t boot_id,
                                         const SimAgentOptions& options) {
    ConvergenceConfig config = SimHostConfig(host_id, boot_id);
    config.period = options.period;
    config.tolerance = options.tolerance;
    return config;
  }

  NodeConfig config;
  SimLoopClock clock;
  SimOwner owner;
  SimSink sink;
  Convergence convergence;
  SnapshotHolder snapshots;
  SimKernel kernel;
  SimKernelJobs jobs;
  CaptureSwitch publisher;
  agent::HostLoop loop;
  bool stalled = false;
  std::vector<SimNetwork::Delivery> queued;     // arrived while stalled
  std::vector<std::function<void()>> deferred;  // timers and completions due while stalled
};

SimAgentCluster::SimAgentCluster(SimAgentOptions options)
    : options_(options), network_(options.network) {}

SimAgentCluster::~SimAgentCluster() = default;

int SimAgentCluster::Start(uint16_t host_id) {
  const int index = network_.Attach();
  hosts_.push_back(std::make_unique<Host>(*this, index, host_id, 0x2000 + hosts_.size(), options_));
  Host& h = *hosts_.back();
  // As Agent::Start: the data path's first snapshot, then the heartbeats, then the ticks.
  h.loop.PublishSnapshot();
  h.loop.UseSink(&h.sink);
  h.loop.ScheduleTick();
  return index;
}

void SimAgentCluster::Schedule(TimePoint at, int host, std::function<void()> fn) {
  events_.push(Event{at, ++seq_, host, std::move(fn)});
}

void SimAgentCluster::Stall(int index, Duration duration) {
  hosts_[index]->stalled = true;
  Schedule(now_ + duration, -1, [this, index] { Resume(index); });
}

void SimAgentCluster::Resume(int index) {
  Host& h = *hosts_[index];
  h.stalled = false;
  for (std::function<void()>& fn : h.deferred) Schedule(now_, index, std::move(fn));
  h.deferred.clear();
  if (h.queued.empty()) return;
  // The daemon's reader: the whole queue in one batch, with arrival stamps, then one tick.
  std::vector<SimNetwork::Delivery> queued;
  queued.swap(h.queued);
  std::vector<agent::ReceivedDatagram> batch;
  for (const SimNetwork::Delivery& d : queued) batch.push_back({*d.bytes, IpAddress{}, d.at});
  h.loop.OnDatagrams(batch);
}

void SimAgentCluster::Deliver(SimNetwork::Delivery delivery) {
  Host& h = *hosts_[delivery.to];
  if (h.stalled) {
    h.queued.push_back(std::move(delivery));
    return;
  }
  const agent::ReceivedDatagram d{*delivery.bytes, IpAddress{}, delivery.at};
  h.loop.OnDatagrams(std::span(&d, 1));
}

bool SimAgentCluster::Step(TimePoint until) {
  const std::optional<TimePoint> delivery = network_.NextDeliveryTime();
  const bool event = !events_.empty() && (!delivery || events_.top().at <= *delivery);
  const TimePoint at = event ? events_.top().at : delivery.value_or(until + Duration(1));
  if (at > until) {
    now_ = until;
    return false;
  }
  now_ = at;
  if (!event) {
    Deliver(network_.PopDelivery());
    return true;
  }
  Event e = events_.top();
  events_.pop();
  if (e.host >= 0 && hosts_[e.host]->stalled) {
    hosts_[e.host]->deferred.push_back(std::move(e.fn));  // runs after the resume's batch
    return true;
  }
  e.fn();
  return true;
}

void SimAgentCluster::Run(Duration duration, const std::function<void()>& each_step) {
  const TimePoint until = now_ + duration;
  while (Step(until)) {
    if (each_step) each_step();
  }
}

std::optional<Duration> SimAgentCluster::RunUntilAgreed(const std::set<uint16_t>& ids,
                                                        Duration deadline) {
  const TimePoint start = now_;
  while (now_ - start < deadline) {
    if (Disagreement(ids).empty()) return now_ - start;
    Run(std::chrono::milliseconds(1));
  }
  return std::nullopt;
}

std::string SimAgentCluster::Disagreement(const std::set<uint16_t>& ids) const {
  const ConvergedMap* reference = nullptr;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    const Convergence& c = hosts_[i]->convergence;
    const std::string who = "host index " + std::to_string(i);
    if (!c.converged() || c.CurrentMap() == nullptr) return who + " not converged";
    std::set<uint16_t> members;
    for (const ViewMember& m : c.CurrentMap()->members) members.insert(m.host_id);
    if (members != ids) return who + " has " + std::to_string(members.size()) + " members";
    if (reference == nullptr) {
      reference = c.CurrentMap();
    } else if (c.CurrentMap()->view_digest != reference->view_digest) {
      return who + " holds another map";
    }
  }
  return "";
}

const Convergence& SimAgentCluster::convergence(int index) const {
  return hosts_[index]->convergence;
}
const SnapshotHolder& SimAgentCluster::snapshots(int index) const {
  return hosts_[index]->snapshots;
}
const agent::HostLoop& SimAgentCluster::loop(int index) const { return hosts_[index]->loop; }
uint64_t SimAgentCluster::map_changes(int index) const { return hosts_[index]->owner.map_changes; }
TimePoint SimAgentCluster::last_send(int index) const { return hosts_[index]->sink.last_send; }

bool SimAgentCluster::Accepts(int index, const SimFlow& flow) const {
  const Host& h = *hosts_[index];
  // The data path (agent/data_path.cc): the published snapshot while the lease holds, else
  // nothing. It is the only deliverer: nothing in the kernel accepts by itself.
  const std::shared_ptr<const MapSnapshot> snapshot = h.snapshots.Load();
  MapSnapshot unleased;
  unleased.vips = snapshot->vips;
  unleased.local_host_id = snapshot->local_host_id;
  const MapSnapshot& current = now_ < h.snapshots.lease_until() ? *snapshot : unleased;
  const std::vector<uint8_t> frame =
      PacketBuilder().Ipv4(flow.client, kVip).Tcp(flow.client_port, flow.port, kTcpSyn).Build();
  ParsedPacket packet;
  return Decide(frame, current, &packet).verdict == Verdict::kAccept;
}

bool SimAgentCluster::MayAccept(int index) const {
  return now_ < hosts_[index]->snapshots.lease_until();
}

}  // namespace nlb::test
