// An affinity change breaks no connection: simulated hosts (Convergence, DescriptorTable and the
// published MapSnapshot, as in connection_moves_test) on simulated time; clients keep sending on
// their connections while every host reloads the web rule with another affinity, a few
// milliseconds apart as `nlbctl reload --cluster` does. Checked after every step: every packet of
// a live connection is accepted by exactly one host, the one that accepted its SYN; a SYN by at
// most one host. As in the agent, the data path follows a published snapshot only when it next
// decides packets, while the loop feeds the table's counts on every tick: the counts are taken
// for CountsGeneration(idle data path, table). Two control cases must break connections, which
// shows that the check can fail: a reload without telling convergence about the key change, and
// counts taken for the idle data path's generation alone (the agent before the fix: the holders
// then pruned every old connection's bucket by counts of the old keys).
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/converged_map.h"
#include "common/convergence.h"
#include "common/descriptor_table.h"
#include "common/rule_numbering.h"
#include "common/tracked_decision.h"
#include "tests/support/packet_builder.h"
#include "tests/support/sim_cluster.h"

namespace nlb {
namespace {

using namespace std::chrono_literals;
using test::Ip;
using test::PacketBuilder;
using test::SimCluster;

const IpAddress kVip = Ip("198.18.0.100");

// Aligned with SimHostConfig's three rule modes: multiple, single, disabled.
std::vector<PortRule> Rules(Affinity web_affinity) {
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
  }
  rules[0].affinity = web_affinity;
  return rules;
}

struct Connection {
  IpAddress client;
  uint16_t port = 0;
  int host = -1;  // the host index that accepted the SYN
  bool live = true;
  TimePoint opened;
};

class AffinityChangeTest : public ::testing::Test {
 protected:
  AffinityChangeTest() : cluster_(test::SimNetwork::Options{}) {
    cluster_.SetTickHooks([this](int i) { BeforeTick(i); },
                          [this](int i, const Convergence::Actions& a) {
                            if (a.map_changed || a.moving_changed) Publish(i);
                          });
  }

  void StartHosts(Affinity affinity) {
    for (uint16_t id : {1, 2, 3}) {
      ConvergenceConfig config = test::SimHostConfig(id, cluster_.NextBootId());
      Host host;
      host.id = id;
      host.rules = Rules(affinity);
      config.rule_keys = ClientKeysOf(host.rules);
      DescriptorTableOptions options;
      options.capacity = 1 << 12;
      options.seed = id;
      host.table = std::make_unique<DescriptorTable>(options, cluster_.now());
      host.snapshot = std::make_shared<MapSnapshot>();
      host.numbering =
          std::make_shared<const RuleNumbering>(RuleNumbering{0, {"web", "mail", "telnet"}});
      hosts_.push_back(std::move(host));
      cluster_.Start(config);
    }
  }

  // What DataPath::FollowNumbering does before it decides by a snapshot: renumber (never needed
  // here: the names stay), then follow each tracked rule's client key.
  void FollowSnapshot(int i) {
    Host& h = hosts_[i];
    const MapSnapshot& s = *h.snapshot;
    if (h.table_numbering != s.numbering && s.numbering != nullptr) {
      RuleRemap identity;
      for (size_t r = 0; r < identity.size(); ++r) identity[r] = static_cast<uint8_t>(r);
      h.table->Renumber(identity, s.numbering->epoch);
      h.table_numbering = s.numbering;
    }
    h.followed = h.snapshot;
    if (h.keyed_generation == s.generation) return;
    h.keyed_generation = s.generation;
    for (size_t r = 0; r < s.rules.size(); ++r) {
      if (!s.rules[r].bucket_owner.empty()) {
        h.table->SetClientKey(static_cast<uint8_t>(r), ClientKeyOf(s.rules[r].rule));
      }
    }
    h.table->SetKeyGeneration(s.generation);
  }

  // nlbctl reload on host i: web's affinity becomes `affinity`. tell_keys false: convergence is
  // given the old keys (the behaviour before affinity changes moved buckets).
  void Reload(int i, Affinity affinity, bool tell_keys = true) {
    Host& h = hosts_[i];
    const std::vector<ClientKey> old_keys = ClientKeysOf(h.rules);
    h.rules = Rules(affinity);
    std::vector<FilteringMode> modes;
    std::vector<std::string> names;
    std::vector<HostRuleParams> params;
    for (const PortRule& r : h.rules) {
      modes.push_back(r.mode);
      names.push_back(r.name);
      params.push_back({50, h.id});
    }
    Digest d;
    d.fill(static_cast<uint8_t>(0x40 + static_cast<int>(affinity)));
    cluster_.host(i).SetRules(d, modes, names, params, cluster_.now(),
                              tell_keys ? ClientKeysOf(h.rules) : old_keys);
    Publish(i);
  }

  // The loop's tick (Agent::FeedLocalConnections) and, before it, the data path's sweep by the
  // snapshot it follows; the data path takes up a new snapshot only with its next packets.
  void BeforeTick(int i) {
    Host& h = hosts_[i];
    if (h.followed == nullptr) FollowSnapshot(i);
    const MapSnapshot& s = *h.followed;
    h.table->Sweep(cluster_.now(), h.table->slot_count(), [&](uint32_t rule, uint32_t bucket) {
      if (rule >= s.rules.size() || s.rules[rule].bucket_owner.empty()) return false;
      const RuleMap& m = s.rules[rule];
      return m.bucket_owner[bucket] == h.id || (m.moving && m.moving->Contains(bucket));
    });
    std::vector<BucketSet> sets(h.rules.size());
    for (uint32_t r = 0; r < sets.size(); ++r) {
      if (h.table->RuleConnections(r) == 0) continue;
      for (uint32_t b = 0; b < kBucketCount; ++b) {
        if (h.table->Connections(r, b) > 0) sets[r].Add(b);
      }
    }
    // Between batches the data path says it is idle: every generation is applied.
    constexpr uint64_t kIdle = UINT64_MAX;
    cluster_.host(i).SetLocalConnections(
        sets, counts_by_applied_only_ ? kIdle : CountsGeneration(kIdle, *h.table));
  }

  void Publish(int i) {
    Host& h = hosts_[i];
    Convergence& c = cluster_.host(i);
    auto s = std::make_shared<MapSnapshot>();
    if (const ConvergedMap* map = c.CurrentMap()) {
      *s = ToMapSnapshot(*map, h.rules, {kVip}, h.id, c.serving(), c.MovingSnapshot(),
                         c.PendingSnapshot());
    }
    s->numbering = h.numbering;
    h.snapshot = std::move(s);
  }

  std::vector<int> Send(const IpAddress& client, uint16_t port, uint8_t flags) {
    const std::vector<uint8_t> frame =
        PacketBuilder().Ipv4(client, kVip).Tcp(port, 80, flags).Build();
    std::vector<int> accepted;
    for (int i = 0; i < static_cast<int>(hosts_.size()); ++i) {
      FollowSnapshot(i);
      ParsedPacket packet;
      const Decision d =
          DecideTracked(frame, *hosts_[i].snapshot, *hosts_[i].table, cluster_.now(), &packet);
      if (d.verdict == Verdict::kAccept) accepted.push_back(i);
    }
    return accepted;
  }

  // Clients come from a few /24 networks and each opens several connections, so that every
  // affinity (none, single, network) spreads them over all hosts differently.
  void Open() {
    Connection c;
    const uint32_t n = next_client_++;
    const uint8_t a[4] = {198, 19, static_cast<uint8_t>(n % 40), static_cast<uint8_t>(n / 40 % 7)};
    c.client = IpAddress::V4(a);
    c.port = static_cast<uint16_t>(10000 + rng_() % 50000);
    c.opened = cluster_.now();
    const std::vector<int> syn = Send(c.client, c.port, kTcpSyn);
    EXPECT_LE(syn.size(), 1u) << "two hosts accepted one SYN";
    if (syn.size() != 1) {
      ++syn_unanswered_;
      return;
    }
    c.host = syn[0];
    connections_.push_back(c);
    Check(connections_.back(), kTcpAck);
  }

  void Check(Connection& c, uint8_t flags) {
    const std::vector<int> accepted = Send(c.client, c.port, flags);
    if (accepted.size() == 1 && accepted[0] == c.host) return;
    ++violations_;
    if (report_violations_ && violations_ <= 5) {
      std::string who;
      for (int i : accepted) who += " " + std::to_string(hosts_[i].id);
      ADD_FAILURE() << "packet of a connection on host " << hosts_[c.host].id << " accepted by {"
                    << who << " }";
    }
  }

  void Traffic() {
    for (Connection& c : connections_) {
      if (c.live) Check(c, kTcpAck);
    }
  }

  // Steps of 50 ms: traffic on every connection, and `opens` new ones a step.
  void Run(Duration duration, int opens) {
    for (Duration t{}; t < duration; t += 50ms) {
      cluster_.Run(50ms);
      Traffic();
      for (int k = 0; k < opens; ++k) Open();
    }
  }

  uint32_t Moving() {
    uint32_t n = 0;
    for (int i = 0; i < 3; ++i)
      n += cluster_.host(i).HoldingBuckets(0) + cluster_.host(i).ContestedBuckets(0);
    return n;
  }

  struct Host {
    uint16_t id = 0;
    std::vector<PortRule> rules;
    std::shared_ptr<const RuleNumbering> numbering;
    std::unique_ptr<DescriptorTable> table;
    std::shared_ptr<const RuleNumbering> table_numbering;
    uint64_t keyed_generation = UINT64_MAX;
    std::shared_ptr<const MapSnapshot> snapshot;
    std::shared_ptr<const MapSnapshot> followed;  // what the data path decided by last
  };

  SimCluster cluster_;
  std::vector<Host> hosts_;
  std::vector<Connection> connections_;
  std::mt19937 rng_{7};
  uint32_t next_client_ = 1;
  uint64_t violations_ = 0;
  uint64_t syn_unanswered_ = 0;
  bool report_violations_ = true;
  bool counts_by_applied_only_ = false;  // the control case: the agent before the fix

  uint64_t ReloadBeforeAnyPacket();
};

struct AffinityCase {
  Affinity from;
  Affinity to;
};

class AffinityChanges : public AffinityChangeTest,
                        public ::testing::WithParamInterface<AffinityCase> {};

TEST_P(AffinityChanges, NoConnectionBreaks) {
  const AffinityCase& c = GetParam();
  StartHosts(c.from);
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, 10s));
  Run(2s, 8);  // 320 connections
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(hosts_[i].table->RuleConnections(0), 50u) << "host index " << i;
  }
  syn_unanswered_ = 0;  // the first map starts with every bucket pending for a moment

  for (int i = 0; i < 3; ++i) {
    Reload(i, c.to);
    cluster_.Run(3ms);
    Traffic();
  }
  Run(4s, 2);
  EXPECT_EQ(violations_, 0u);
  EXPECT_GT(Moving(), 0u) << "the affinity change moved nothing: connections were not followed";
  // Each host's connections are counted in the buckets the new key gives them.
  for (Host& h : hosts_) {
    h.table->ForEach([&](const FlowKey& k, uint32_t bucket, FlowState, uint32_t) {
      ASSERT_EQ(bucket, BucketOfHash(FlowHash(k.client, true, k.client_port, c.to, 64)));
    });
  }

  // The old connections close: the holders report empty and nothing moves any more.
  const TimePoint now = cluster_.now();
  for (Connection& conn : connections_) {
    if (!conn.live || conn.opened > now) continue;
    Check(conn, kTcpFin | kTcpAck);
    Check(conn, kTcpAck);
    conn.live = false;
  }
  Run(14s, 0);  // close delay (10 s) plus a few heartbeats
  EXPECT_EQ(violations_, 0u);
  EXPECT_EQ(Moving(), 0u) << "buckets still moving after the connections closed";
  // New connections reach every host under the new affinity.
  const size_t before = connections_.size();
  Run(1s, 20);
  std::vector<int> per_host(3);
  for (size_t k = before; k < connections_.size(); ++k) ++per_host[connections_[k].host];
  for (int i = 0; i < 3; ++i) EXPECT_GT(per_host[i], 0) << "host index " << i;
  EXPECT_EQ(violations_, 0u);
  EXPECT_LT(syn_unanswered_, 40u) << "SYNs nobody took (clients retransmit them)";
}

INSTANTIATE_TEST_SUITE_P(Reload, AffinityChanges,
                         ::testing::Values(AffinityCase{Affinity::kNone, Affinity::kSingle},
                                           AffinityCase{Affinity::kSingle, Affinity::kNetwork},
                                           AffinityCase{Affinity::kNetwork, Affinity::kNone}),
                         [](const ::testing::TestParamInfo<AffinityCase>& p) {
                           return std::string(AffinityName(p.param.from)) + "_to_" +
                                  std::string(AffinityName(p.param.to));
                         });

// The same reload without the key change reaching convergence (owners kept, nothing moving):
// most connections hash to another owner and break, which the check above would catch.
// Every host reloads and ticks for a while before its data path decides a packet by the new
// snapshot (it is idle between batches, and the kernel switch may hold the snapshot back): the
// loop feeds counts meanwhile. Returns the violations seen in the second after.
uint64_t AffinityChangeTest::ReloadBeforeAnyPacket() {
  StartHosts(Affinity::kNone);
  EXPECT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, 10s));
  Run(2s, 8);
  report_violations_ = false;
  violations_ = 0;
  for (int i = 0; i < 3; ++i) {
    Reload(i, Affinity::kSingle);
    cluster_.Run(3ms);
  }
  cluster_.Run(200ms);  // ticks, no packet: the tables still follow the old keys
  Run(1s, 0);
  return violations_;
}

// Counts are taken for CountsGeneration: the old owners keep every bucket until their data path
// has rebucketed their connections under the new key. Without it this broke 5 of 12 real
// downloads (tests/integration/conntrack_affinity_test.sh).
TEST_F(AffinityChangeTest, CountsWaitForTheNewKeys) {
  EXPECT_EQ(ReloadBeforeAnyPacket(), 0u);
  EXPECT_GT(Moving(), 0u);
}

// The control case: counts taken for the idle data path's generation alone (the agent before
// CountsGeneration) speak of the old buckets, where each host's own connections lie in buckets
// it still owns, so the holders let go of every bucket the new key put them in.
TEST_F(AffinityChangeTest, CountsOfTheOldKeysBreakConnections) {
  counts_by_applied_only_ = true;
  EXPECT_GT(ReloadBeforeAnyPacket(), 0u);
}

TEST_F(AffinityChangeTest, ReloadThatMovesNothingBreaksConnections) {
  StartHosts(Affinity::kNone);
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, 10s));
  Run(2s, 8);
  report_violations_ = false;
  for (int i = 0; i < 3; ++i) Reload(i, Affinity::kSingle, /*tell_keys=*/false);
  Traffic();
  EXPECT_GT(violations_, connections_.size() / 3);
}

}  // namespace
}  // namespace nlb
