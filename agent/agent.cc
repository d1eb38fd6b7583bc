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
      clock_(io),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      rule_control_(config_.cluster.port_rules.size(), RuleControl::kEnabled) {
  if (config_.host.initial_state == InitialState::kStopped) role_ = HostRole::kStopped;
  RestoreOperatorState();
}

Agent::~Agent() {
  // The data path thread must stop before the objects it reads go away, and the kernel worker
  // before the programmer it drives; then what was put into the kernel goes.
  if (data_path_) data_path_->Stop();
  loop_.reset();
  // Its jobs use the switches and the BPF connection table: it goes first.
  worker_.reset();
  capture_switch_.reset();
  bpf_.reset();
  // The program stops accepting at once; it is detached after the VIPs are gone (members).
  if (bpf_plane_) (void)bpf_plane_->RenewLease(std::chrono::nanoseconds(0));
  if (kernel_) kernel_->Remove();
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
  if (loop_) loop_->Stop();
  signals_.cancel();
  if (heartbeats_) heartbeats_->Close();
  if (nft_monitor_) nft_monitor_->Close();
  if (data_path_) data_path_->Stop();
  io_.stop();
}

void Agent::BeforeTick(std::chrono::steady_clock::time_point now) {
  CheckDataPath(now);
  // The BPF back end: the attachment checked (and repaired) and the counters read once a period.
  if (bpf_ &&
      now - last_bpf_check_ >= std::chrono::milliseconds(config_.cluster.heartbeat.period_ms)) {
    last_bpf_check_ = now;
    bpf_->Check();
    if (bpf_connections_) bpf_connections_->ReadCounters();
  }
  // Its connection table is swept on the worker, faster while this host holds moved buckets.
  if (bpf_connections_) bpf_connections_->Poll(now, convergence_->HoldsMovingBuckets());
  watchdog_.PetWatchdog(now);
  FeedLocalConnections();
}

void Agent::CheckDataPath(std::chrono::steady_clock::time_point now) {
  if (!data_path_) return;
  const auto period = std::chrono::milliseconds(config_.cluster.heartbeat.period_ms);
  if (data_path_->exited()) {
    loop_->Block(HostLoop::kBlockDataPath, "the data path thread stopped");
  } else if (auto since = data_path_->failing_since(); since && now - *since > period) {
    loop_->Block(
        HostLoop::kBlockDataPath,
        "the capture on " + config_.host.interface + " has failed for " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(now - *since).count()) +
            " ms (link down?)");
  } else if (!data_path_->failing_since()) {
    loop_->Unblock(HostLoop::kBlockDataPath);
  }
}

void Agent::AfterTick(const ConvergenceReport& before, const ConvergenceReport& after,
                      bool map_changed) {
  WarnIfAlone(after);
  if (map_changed) {
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

// The buckets of each rule with at least one tracked connection in table (DescriptorTable or
// BpfFlowTable: per rule index, any thread).
template <typename Table>
std::vector<BucketSet> BucketsWithConnections(const Table& table, size_t rules) {
  std::vector<BucketSet> sets(rules);
  for (size_t r = 0; r < rules && r < kMaxTrackedRules; ++r) {
    if (table.RuleConnections(static_cast<uint32_t>(r)) == 0) continue;
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      if (table.Connections(static_cast<uint32_t>(r), b) > 0) sets[r].Add(b);
    }
  }
  return sets;
}

void Agent::FeedLocalConnections() {
  if (!table_ || !data_path_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_connections_feed_ < std::chrono::milliseconds(100)) return;
  const size_t rules = config_.cluster.port_rules.size();
  if (bpf_flows_) {
    // The BPF back end: the counts of the last sweep, stamped with the numbering and the map
    // generation the program decided by when it started (both read before the counts). A sweep
    // under a map counts every flow the program accepted under it, by that map's client keys.
    if (bpf_flows_->counts_epoch() != numbering_->epoch) return;
    const uint64_t applied = std::min(AppliedGeneration(), bpf_flows_->counts_generation());
    last_connections_feed_ = now;
    convergence_->SetLocalConnections(BucketsWithConnections(*bpf_flows_, rules), applied);
    return;
  }
  // The counts are per rule index: until the data path has renumbered the table after a reload,
  // they are in the old numbering (read first: the counts read after it are in this one).
  if (table_->rule_epoch() != numbering_->epoch) return;
  // Both are read before the counts, so the counts are at least that recent. The data path may
  // be idle (AppliedGeneration() says kIdle) and yet not have loaded the latest map, which the
  // kernel switch may even hold back: after an affinity change, counts of the old keys would end
  // the holdings of every old connection. The table's key generation says which map it follows.
  const uint64_t applied = CountsGeneration(AppliedGeneration(), *table_);
  last_connections_feed_ = now;
  convergence_->SetLocalConnections(BucketsWithConnections(*table_, rules), applied);
}

void Agent::CompleteDrainstop() {
  if (role_ != HostRole::kDraining) return;
  const ConvergedMap* map = convergence_->CurrentMap();
  if (map == nullptr || convergence_->HoldsMovingBuckets()) return;
  bool drained_map = false;  // the cluster has taken this host's buckets away
  for (const ViewMember& m : map->members) {
    drained_map |= m.host_id == config_.host.id && m.role == HostRole::kDraining;
  }
  if (!drained_map || AppliedGeneration() < map->generation) return;
  const std::string line = "drainstop complete: the last connection closed, host stopped";
  LogNotice("control", line);
  NoteEvent(line);
  (void)SetRole(HostRole::kStopped, "stopped", /*by_operator=*/false);
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

void Agent::Restrict(MapSnapshot& snapshot) const {
  // A rule this host disabled stops at once, before the cluster has moved its buckets.
  for (size_t i = 0; i < snapshot.rules.size() && i < rule_control_.size(); ++i) {
    if (rule_control_[i] == RuleControl::kDisabled) snapshot.rules[i].enabled = false;
  }
  if (role_ == HostRole::kStopped || role_ == HostRole::kSuspended) snapshot.serving = false;
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
