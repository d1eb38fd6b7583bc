// Liveness under stalls (docs/protocol.md, "Liveness and stalls"), on simulated time: one host's
// loop stops while its peers' heartbeats queue for it (or are lost); when it resumes it reads the
// whole queue with the arrival times, then ticks once. Never sleeps.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/convergence.h"
#include "common/heartbeat.h"
#include "common/moving_report.h"
#include "tests/support/sim_cluster.h"

namespace nlb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::SimCluster;
using test::SimHostConfig;

const std::set<uint16_t> kThree = {1, 2, 3};

struct StallCase {
  const char* name;
  milliseconds period;
  uint32_t tolerance;
  Duration stall;
  bool queue_lost = false;         // the socket buffer overflowed: nothing queued survives
  bool tick_per_datagram = false;  // the daemon before batch reads
  bool peers_drop_it = false;      // the stalled host's silence outlasts its peers' tolerance
};

// A stall of up to (tolerance - 1) periods minus the network's delay is below the tolerance:
// the stalled host's last heartbeat before it may be up to a period old.
const StallCase kStallCases[] = {
    {"100ms x3, 0.15 s", milliseconds(100), 3, milliseconds(150)},
    {"1000ms x5, 0.2 s", milliseconds(1000), 5, milliseconds(200)},
    {"1000ms x5, 1 s", milliseconds(1000), 5, seconds(1)},
    {"1000ms x5, 3 s", milliseconds(1000), 5, seconds(3)},
    // Lost queue below the tolerance: the host's lateness keeps its peers.
    {"1000ms x5, 3 s, queue lost", milliseconds(1000), 5, seconds(3), true},
    {"100ms x3, 0.15 s, queue lost", milliseconds(100), 3, milliseconds(150), true},
    // Above the tolerance: the peers drop the stalled host, which keeps them.
    {"100ms x3, 0.5 s", milliseconds(100), 3, milliseconds(500), false, false, true},
    {"100ms x3, 1 s", milliseconds(100), 3, seconds(1), false, false, true},
    {"100ms x3, 3 s", milliseconds(100), 3, seconds(3), false, false, true},
    {"1000ms x5, 5 s", milliseconds(1000), 5, seconds(5), false, false, true},
    {"100ms x3, 3 s, queue lost", milliseconds(100), 3, seconds(3), true, false, true},
    {"1000ms x5, 6 s, queue lost", milliseconds(1000), 5, seconds(6), true, false, true},
    // Even driven as the daemon was before batch reads (a tick after each datagram, stamped when
    // read), the host's lateness keeps the peers whose heartbeats are still queued.
    {"tick per datagram, 100ms x3, 1 s", milliseconds(100), 3, seconds(1), false, true, true},
    {"tick per datagram, 1000ms x5, 3 s", milliseconds(1000), 5, seconds(3), false, true},
};

TEST(ConvergenceStallTest, StallsBelowTheToleranceChangeNoView) {
  for (const StallCase& c : kStallCases) {
    // Three phases of the stall's start relative to the heartbeats.
    for (int phase = 0; phase < 3; ++phase) {
      SCOPED_TRACE(std::string(c.name) + ", phase " + std::to_string(phase));
      SimCluster cluster({.seed = static_cast<uint64_t>(7 + phase)});
      for (uint16_t id = 1; id <= 3; ++id) {
        ConvergenceConfig config = SimHostConfig(id, cluster.NextBootId());
        config.period = c.period;
        config.tolerance = c.tolerance;
        cluster.Start(config);
      }
      ASSERT_TRUE(cluster.RunUntilAgreed(kThree, seconds(30)).has_value());
      cluster.Run(c.period * 3 + c.period * phase / 3);
      const int stalled = 1;  // host 2
      cluster.SetTickPerDatagram(stalled, c.tick_per_datagram);
      Digest views[3];
      uint64_t map_changes[3];
      for (int i = 0; i < 3; ++i) {
        views[i] = cluster.host(i).view_digest();
        map_changes[i] = cluster.map_changes(i);
      }
      bool peers_changed = false;
      bool stalled_changed = false;
      cluster.Stall(stalled, c.stall, c.queue_lost);
      cluster.Run(c.stall + c.period * (c.tolerance + 2), [&] {
        for (int i = 0; i < 3; ++i) {
          if (cluster.host(i).view_digest() == views[i]) continue;
          (i == stalled ? stalled_changed : peers_changed) = true;
        }
      });
      EXPECT_EQ(peers_changed, c.peers_drop_it);
      EXPECT_FALSE(stalled_changed) << "the stalled host expired a peer";
      if (!c.peers_drop_it) {
        for (int i = 0; i < 3; ++i) EXPECT_EQ(cluster.map_changes(i), map_changes[i]) << i;
        EXPECT_EQ(cluster.Disagreement(kThree), "");
      }
      // However it went, the cluster comes back whole.
      EXPECT_TRUE(cluster.RunUntilAgreed(kThree, seconds(30)).has_value())
          << cluster.Disagreement(kThree);
    }
  }
}

// The agent's question after a stall past its lease (docs/protocol.md, "After an expiry"): did
// any member disagree since the stall began? Exactly when the peers dropped the stalled host,
// even when the heartbeats that showed the drop were lost. Then it forgets its map and takes the
// next one as a joining host does.
TEST(ConvergenceStallTest, AStalledHostKnowsWhetherItWasDropped) {
  for (const StallCase& c : kStallCases) {
    if (c.tick_per_datagram) continue;
    SCOPED_TRACE(c.name);
    SimCluster cluster({.seed = 11});
    for (uint16_t id = 1; id <= 3; ++id) {
      ConvergenceConfig config = SimHostConfig(id, cluster.NextBootId());
      config.period = c.period;
      config.tolerance = c.tolerance;
      cluster.Start(config);
    }
    ASSERT_TRUE(cluster.RunUntilAgreed(kThree, seconds(30)).has_value());
    cluster.Run(c.period * 3);
    const TimePoint stall_start = cluster.now();
    const int stalled = 1;  // host 2
    cluster.Stall(stalled, c.stall, c.queue_lost);
    cluster.Run(c.stall + 2 * c.period);  // the agent's hold: two periods after it resumes
    Convergence& host = cluster.host(stalled);
    EXPECT_EQ(host.AgreedSince(stall_start), !c.peers_drop_it);
    if (!c.peers_drop_it) continue;
    const uint64_t generation = host.Report().generation;
    host.ForgetMap(cluster.now());
    EXPECT_EQ(host.CurrentMap(), nullptr);
    EXPECT_FALSE(host.serving());
    ASSERT_TRUE(cluster.RunUntilAgreed(kThree, seconds(30)).has_value())
        << cluster.Disagreement(kThree);
    EXPECT_GT(cluster.host(stalled).Report().generation, generation);
    EXPECT_EQ(cluster.MapDefect(), "");
  }
}

// Two machines wired by hand, for rules the simulated cluster cannot isolate.
class LivenessTest : public ::testing::Test {
 protected:
  static ConvergenceConfig Config(uint16_t id) {
    ConvergenceConfig config = SimHostConfig(id, 0x100 + id);
    config.period = milliseconds(100);
    config.tolerance = 3;
    return config;
  }
  LivenessTest() : a_(Config(1), now_), b_(Config(2), now_) {}

  // Both tick and exchange heartbeats every period until a and b agree on both hosts.
  void Converge() {
    for (int i = 0;
         i < 40 && !(a_.converged() && b_.converged() && a_.Report().members.size() == 2); ++i) {
      Exchange();
    }
    ASSERT_TRUE(a_.converged() && a_.Report().members.size() == 2);
  }
  // At the earlier wakeup, both tick (early is harmless, late would be lateness); b's heartbeat
  // (if any) reaches a at once, and a's reaches b.
  std::optional<std::vector<uint8_t>> Exchange() {
    now_ = std::max(now_, std::min(a_.NextWakeup(), b_.NextWakeup()));
    Convergence::Actions from_a = a_.OnTick(now_);
    Convergence::Actions from_b = b_.OnTick(now_);
    if (from_a.heartbeat) (void)b_.OnDatagram(*from_a.heartbeat, now_);
    if (from_b.heartbeat) (void)a_.OnDatagram(*from_b.heartbeat, now_);
    return from_b.heartbeat;
  }
  std::vector<uint8_t> ReportPart(uint64_t sequence) {
    MovingReport report;
    report.cluster_name = "sim";
    report.host_id = 2;
    report.boot_id = 0x102;
    report.sequence = sequence;
    report.view_digest = b_.view_digest();
    report.rules.resize(3);
    Result<std::vector<std::vector<uint8_t>>> parts = EncodeMovingReport(report, test::kSimKey);
    EXPECT_TRUE(parts.ok());
    return parts->front();
  }
  // a alone ticks at every wakeup up to `to` (b's heartbeats are lost), never late.
  void RunA(TimePoint to) {
    while (now_ < to) {
      now_ = std::min(to, std::max(now_, a_.NextWakeup()));
      (void)a_.OnTick(now_);
    }
  }
  bool AHearsB() const { return a_.Report().members.size() == 2; }

  TimePoint now_{std::chrono::hours(2)};
  Convergence a_;
  Convergence b_;
};

TEST_F(LivenessTest, AMovingReportRefreshesItsSenderButAReplayDoesNot) {
  Converge();
  std::optional<std::vector<uint8_t>> last;
  while (!last) last = Exchange();
  Result<Heartbeat> hb = DecodeHeartbeat(*last, test::kSimKey, "sim");
  ASSERT_TRUE(hb.ok());
  // From here b's heartbeats are lost; only its reports of the next beats get through.
  const std::vector<uint8_t> part = ReportPart(hb->sequence + 1);
  const TimePoint heard = now_;
  RunA(heard + milliseconds(250));
  ASSERT_TRUE(a_.OnDatagram(part, now_).ok());
  RunA(heard + milliseconds(500));  // past the tolerance since b's last heartbeat
  EXPECT_TRUE(AHearsB()) << "the report did not refresh b";
  // The same part again (an attacker replaying it) keeps nobody alive.
  ASSERT_TRUE(a_.OnDatagram(part, now_).ok());
  RunA(heard + milliseconds(560));
  EXPECT_FALSE(AHearsB()) << "a replayed report part kept b alive";
  EXPECT_EQ(a_.counters().late_ticks, 0u);
}

TEST_F(LivenessTest, ALateTickMovesDeadlinesByItsLateness) {
  Converge();
  std::optional<std::vector<uint8_t>> last;
  while (!last) last = Exchange();
  const TimePoint heard = now_;  // b's last heartbeat reached a; b is silent from here
  // a's loop was stopped: its next tick comes 1 s after the wakeup it asked for, with nothing
  // queued from b (lost). b's silence is past the tolerance (300 ms), but a could not listen.
  const TimePoint wakeup = a_.NextWakeup();
  ASSERT_LT(wakeup, heard + milliseconds(300));
  now_ = wakeup + seconds(1);
  (void)a_.OnTick(now_);
  EXPECT_TRUE(AHearsB());
  EXPECT_EQ(a_.counters().late_ticks, 1u);
  EXPECT_EQ(a_.counters().max_tick_lateness, seconds(1));
  // On time again, a gives b exactly the second it lost: b's deadline is heard + 1.3 s.
  const TimePoint deadline = heard + milliseconds(1300);
  for (int i = 0; i < 100 && now_ < deadline; ++i) {
    EXPECT_TRUE(AHearsB()) << "expired before its moved deadline";
    now_ = std::max(now_, a_.NextWakeup());
    (void)a_.OnTick(now_);
  }
  EXPECT_EQ(now_, deadline);
  EXPECT_FALSE(AHearsB()) << "lateness kept a silent peer beyond the time the loop lost";
  EXPECT_EQ(a_.counters().late_ticks, 1u);
}

TEST_F(LivenessTest, OnTimeTicksAndTimerSlackAreNotLateness) {
  Converge();
  for (int i = 0; i < 50; ++i) {
    now_ = a_.NextWakeup() + milliseconds(1);  // under a period / 20
    (void)a_.OnTick(now_);
  }
  EXPECT_EQ(a_.counters().late_ticks, 0u);
}

TEST_F(LivenessTest, ReportSaysHowLongNoPeerWasHeard) {
  now_ += seconds(1);
  (void)a_.OnTick(now_);
  EXPECT_EQ(a_.Report().peers_heard, 0u);
  EXPECT_GE(a_.Report().alone_for, seconds(1));
  Converge();
  EXPECT_EQ(a_.Report().peers_heard, 1u);
  EXPECT_EQ(a_.Report().alone_for, Duration{});
}

}  // namespace
}  // namespace nlb
