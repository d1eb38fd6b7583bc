// SimAgentCluster: hosts that run the agent's own loop (agent/host_loop.h) and the capture back
// end's publisher (agent/capture_switch.h) on simulated time, on a lossy SimNetwork. Each host
// has what nlbd has around that code, faked on the simulated clock: nlbd's nftables table
// (SimKernel, which holds nothing that delivers), a kernel worker that takes kernel_delay per job
// and posts back to the loop, and a data path that decides by the published snapshot while the
// lease holds. A stalled host's loop neither ticks nor reads nor runs completions: its heartbeats
// queue with their arrival stamps and are read as one batch when it resumes; its worker and data
// path go on, as a slow handler on the loop would leave them. Deterministic for a seed; never
// sleeps. Single-threaded.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "agent/host_loop.h"
#include "common/convergence.h"
#include "common/ip_address.h"
#include "common/map_snapshot.h"
#include "tests/support/sim_network.h"

namespace nlb::test {

struct SimAgentOptions {
  std::chrono::milliseconds period{100};
  uint32_t tolerance = 3;
  SimNetwork::Options network;
  Duration kernel_delay = std::chrono::microseconds(300);  // per kernel job
};

// A new TCP connection's first packet, from a client to the VIP (port 80: rule web, 25: mail).
struct SimFlow {
  IpAddress client;
  uint16_t client_port = 0;
  uint16_t port = 80;
};

class SimAgentCluster {
 public:
  explicit SimAgentCluster(SimAgentOptions options);
  ~SimAgentCluster();

  int Start(uint16_t host_id);  // returns the host's index
  // From now, host `index`'s loop stops for `duration` (see above).
  void Stall(int index, Duration duration);
  void Run(Duration duration, const std::function<void()>& each_step = {});
  std::optional<Duration> RunUntilAgreed(const std::set<uint16_t>& ids, Duration deadline);
  std::string Disagreement(const std::set<uint16_t>& ids) const;

  TimePoint now() const { return now_; }
  int size() const { return static_cast<int>(hosts_.size()); }
  const Convergence& convergence(int index) const;
  const SnapshotHolder& snapshots(int index) const;
  const agent::HostLoop& loop(int index) const;
  uint64_t map_changes(int index) const;
  // Now: whether host `index`'s data path accepts the flow (by its published snapshot, while
  // its lease holds).
  bool Accepts(int index, const SimFlow& flow) const;
  // Now: the host's data path may still accept something.
  bool MayAccept(int index) const;

  struct Host;  // sim_agent.cc
  // For the fakes: runs fn at `at` on host's loop (deferred while it is stalled), or off every
  // loop (host -1).
  void Schedule(TimePoint at, int host, std::function<void()> fn);
  // When host `index` last sent a datagram.
  TimePoint last_send(int index) const;

 private:
  struct Event {
    TimePoint at;
    uint64_t seq;
    int host;  // the loop it runs on; -1: off every loop (kernel worker, data path)
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  bool Step(TimePoint until);
  void Resume(int index);
  void Deliver(SimNetwork::Delivery delivery);

  SimAgentOptions options_;
  SimNetwork network_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace nlb::test
