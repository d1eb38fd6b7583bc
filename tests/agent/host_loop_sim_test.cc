// The agent's own loop (agent/host_loop.h: ticks, heartbeat batches, the lease, with the capture
// back end's publisher, agent/capture_switch.h) on simulated time: three hosts on a lossy
// simulated network, one of whose loops stalls with its peers' heartbeats queued. Every
// simulated millisecond a new connection is offered to every host, and the test checks the
// promise the lease makes (docs/protocol.md, "The lease"): a stall below the tolerance changes
// no view; above it, the stalled host stops accepting (its data path's lease ran out: nothing in
// the kernel delivers by itself) before any peer takes its buckets, and no packet is ever accepted
// by two hosts. Never sleeps. (Stalls beyond 0.2-3 s: 1000 ms x 5 needs one past its 5 s
// tolerance.)
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <span>
#include <string>

#include "tests/support/sim_agent.h"

namespace nlb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::SimAgentCluster;
using test::SimFlow;

const std::set<uint16_t> kThree = {1, 2, 3};

struct StallCase {
  const char* name;
  milliseconds period;
  uint32_t tolerance;
  Duration stall;
  bool peers_drop_it;  // the stall outlasts the peers' tolerance
};

const StallCase kCases100ms[] = {
    {"100ms x3, 0.2 s", milliseconds(100), 3, milliseconds(200), false},
    {"100ms x3, 0.5 s", milliseconds(100), 3, milliseconds(500), true},
    {"100ms x3, 1 s", milliseconds(100), 3, seconds(1), true},
    {"100ms x3, 3 s", milliseconds(100), 3, seconds(3), true},
};

const StallCase kCases1000ms[] = {
    {"1000ms x5, 0.2 s", milliseconds(1000), 5, milliseconds(200), false},
    {"1000ms x5, 1 s", milliseconds(1000), 5, seconds(1), false},
    {"1000ms x5, 3 s", milliseconds(1000), 5, seconds(3), false},
    // Long enough for the peers to agree on a map without it (a few periods after the drop).
    {"1000ms x5, 9 s", milliseconds(1000), 5, seconds(9), true},
};

// A new client connection: to rule web (port 80), and every fourth one to mail (25).
SimFlow NextFlow(std::mt19937_64& random, uint64_t n) {
  const uint8_t address[4] = {198, 19, static_cast<uint8_t>(random()),
                              static_cast<uint8_t>(random())};
  return SimFlow{IpAddress::V4(address), static_cast<uint16_t>(1024 + random() % 64000),
                 static_cast<uint16_t>(n % 4 == 3 ? 25 : 80)};
}

// For each case: below the tolerance no view changes; above it the stalled host stops accepting
// before a peer takes its buckets; never a packet accepted twice.
void RunStallCases(std::span<const StallCase> cases) {
  for (const StallCase& c : cases) {
    // The stall starts right after a heartbeat of the stalled host, or 40% of a period later.
    for (int offset = 0; offset < 2; ++offset) {
      SCOPED_TRACE(std::string(c.name) + ", offset " + std::to_string(offset));
      SimAgentCluster cluster(
          {.period = c.period,
           .tolerance = c.tolerance,
           .network = {.loss = 0.01, .seed = static_cast<uint64_t>(offset + 3)}});
      for (uint16_t id = 1; id <= 3; ++id) cluster.Start(id);
      ASSERT_TRUE(cluster.RunUntilAgreed(kThree, seconds(30)).has_value())
          << cluster.Disagreement(kThree);
      cluster.Run(c.period * 3);
      const int stalled = 1;  // host 2
      const TimePoint sent = cluster.last_send(stalled);
      while (cluster.last_send(stalled) == sent) cluster.Run(milliseconds(1));
      cluster.Run(c.period * 4 * offset / 10);

      Digest views[3];
      uint64_t map_changes[3];
      for (int i = 0; i < 3; ++i) {
        views[i] = cluster.convergence(i).view_digest();
        map_changes[i] = cluster.map_changes(i);
      }
      // The buckets of rule web the stalled host serves.
      std::vector<uint32_t> its_buckets;
      {
        const auto snapshot = cluster.snapshots(stalled).Load();
        ASSERT_TRUE(snapshot->serving);
        const RuleMap& web = snapshot->rules.at(0);
        for (uint32_t b = 0; b < web.bucket_owner.size(); ++b) {
          if (web.bucket_owner[b] == 2) its_buckets.push_back(b);
        }
        ASSERT_FALSE(its_buckets.empty());
      }

      cluster.Stall(stalled, c.stall);
      std::optional<TimePoint> stopped;  // the stalled host can accept nothing any more
      std::optional<TimePoint> taken;    // a peer serves one of its buckets
      std::shared_ptr<const MapSnapshot> checked[3];
      bool views_changed = false;
      uint64_t flows = 0;
      uint64_t twice = 0;
      std::mt19937_64 random(42 + offset);
      const TimePoint end = cluster.now() + c.stall + c.period * (c.tolerance + 3);
      while (cluster.now() < end) {
        cluster.Run(milliseconds(1));
        for (int i = 0; i < 3; ++i)
          views_changed |= cluster.convergence(i).view_digest() != views[i];
        const SimFlow flow = NextFlow(random, flows++);
        int accepted = 0;
        for (int i = 0; i < 3; ++i) accepted += cluster.Accepts(i, flow) ? 1 : 0;
        if (accepted > 1) ++twice;
        if (!stopped && !cluster.MayAccept(stalled)) stopped = cluster.now();
        for (int peer : {0, 2}) {
          const auto snapshot = cluster.snapshots(peer).Load();
          if (taken || snapshot == checked[peer]) continue;
          checked[peer] = snapshot;
          if (!snapshot->serving || snapshot->rules.empty()) continue;
          for (uint32_t b : its_buckets) {
            if (snapshot->rules[0].bucket_owner[b] != snapshot->local_host_id) continue;
            taken = cluster.now();
          }
        }
      }
      EXPECT_EQ(twice, 0u) << "packets accepted by two hosts, of " << flows;
      EXPECT_EQ(views_changed, c.peers_drop_it);
      if (c.peers_drop_it) {
        ASSERT_TRUE(taken.has_value()) << "no peer took the stalled host's buckets";
        ASSERT_TRUE(stopped.has_value());
        EXPECT_LE(*stopped, *taken) << "a peer took buckets the stalled host still served";
        EXPECT_GE(cluster.loop(stalled).lease_expiries(), 1u);
      } else {
        EXPECT_FALSE(taken.has_value());
        for (int i = 0; i < 3; ++i) EXPECT_EQ(cluster.map_changes(i), map_changes[i]) << i;
      }
      // However it went, the cluster comes back whole.
      EXPECT_TRUE(cluster.RunUntilAgreed(kThree, seconds(30)).has_value())
          << cluster.Disagreement(kThree);
    }
  }
}

// One test per setting, so that each stays short under ASan.
TEST(HostLoopSimTest, StallsAt100msX3) { RunStallCases(kCases100ms); }
TEST(HostLoopSimTest, StallsAt1000msX5) { RunStallCases(kCases1000ms); }

}  // namespace
}  // namespace nlb
