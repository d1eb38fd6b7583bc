// Connections survive moves: simulated hosts, each with its Convergence, DescriptorTable and
// published MapSnapshot, on simulated time and a simulated network. Clients open TCP connections
// to the VIP and keep sending on them while the cluster changes (a join, a drainstop, a weight
// change, a drained rule, a crash, a move that times out). The invariant checked after every
// step: every packet of a live connection is accepted by exactly one host, the one that accepted
// its SYN; a new connection's SYN by at most one host.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
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

// New connections a 50 ms step while the cluster fills. Every live connection sends a packet each
// step to every host, so this sets the test's cost: 20 gives 1200 connections, several hundred
// in the buckets a move takes, which is what the invariants need (6000 took 81 s under ASan).
constexpr int kOpens = 20;

const IpAddress kVip = Ip("198.18.0.100");

// Aligned with SimHostConfig's three rule modes: multiple, single, disabled.
std::vector<PortRule> Rules() {
  std::vector<PortRule> rules(3);
  rules[0].name = "web";
  rules[0].vip = kVip;
  rules[0].first_port = rules[0].last_port = 80;
  rules[0].protocol = Protocol::kTcp;
  rules[0].affinity = Affinity::kNone;
  rules[1].name = "mail";
  rules[1].vip = kVip;
  rules[1].first_port = rules[1].last_port = 25;
  rules[1].protocol = Protocol::kTcp;
  rules[1].mode = FilteringMode::kSingleHost;
  rules[2].name = "telnet";
  rules[2].vip = kVip;
  rules[2].first_port = rules[2].last_port = 23;
  rules[2].protocol = Protocol::kTcp;
  rules[2].mode = FilteringMode::kDisabled;
  return rules;
}

struct Connection {
  IpAddress client;
  uint16_t port = 0;
  int host = -1;  // the host index that accepted the SYN
  bool live = true;
  TimePoint opened;
  // Its ACK, built once: the traffic sends it every step, and building a frame per packet was
  // most of this test's time under ASan.
  std::vector<uint8_t> ack;
};

class ConnectionMovesTest : public ::testing::Test {
 public:  // the move cases below act on the fixture
  ConnectionMovesTest() : cluster_(test::SimNetwork::Options{}) {
    cluster_.SetTickHooks([this](int i) { BeforeTick(i); },
                          [this](int i, const Convergence::Actions& a) { AfterTick(i, a); });
  }

  int StartHost(uint16_t id) {
    ConvergenceConfig config = test::SimHostConfig(id, cluster_.NextBootId());
    config.moving_timeout = moving_timeout_;
    Host host;
    host.id = id;
    DescriptorTableOptions options;
    options.capacity = 1 << 14;
    options.seed = id;
    host.table = std::make_unique<DescriptorTable>(options, cluster_.now());
    host.snapshot = std::make_shared<MapSnapshot>();
    host.numbering = std::make_shared<const RuleNumbering>(RuleNumbering{0, Names(host.rules)});
    hosts_.push_back(std::move(host));
    const int index = cluster_.Start(config);
    EXPECT_EQ(index, static_cast<int>(hosts_.size()) - 1);
    return index;
  }

  static std::vector<std::string> Names(const std::vector<PortRule>& rules) {
    std::vector<std::string> names;
    for (const PortRule& r : rules) names.push_back(r.name);
    return names;
  }

  // What DataPath::FollowNumbering does before it decides by a snapshot.
  void FollowNumbering(int i) {
    Host& h = hosts_[i];
    const std::shared_ptr<const RuleNumbering>& next = h.snapshot->numbering;
    if (next == nullptr || next == h.table_numbering) return;
    RuleRemap remap;
    if (h.table_numbering == nullptr) {
      for (size_t r = 0; r < remap.size(); ++r) remap[r] = static_cast<uint8_t>(r);
    } else {
      RuleRemapBetween(*h.table_numbering, *next, &remap);
    }
    h.table->Renumber(remap, next->epoch);
    h.table_numbering = next;
  }

  // nlbctl reload on host i: its rules become `rules` (digest `digest`), its map and moving
  // buckets follow them by name, and its data path renumbers the table before the next packet.
  void Reload(int i, std::vector<PortRule> rules, uint8_t digest) {
    Host& h = hosts_[i];
    h.rules = std::move(rules);
    h.numbering = std::make_shared<const RuleNumbering>(
        RuleNumbering{h.numbering->epoch + 1, Names(h.rules)});
    std::vector<FilteringMode> modes;
    std::vector<HostRuleParams> params;
    for (const PortRule& r : h.rules) {
      modes.push_back(r.mode);
      params.push_back({50, h.id});
    }
    Digest d;
    d.fill(digest);
    cluster_.host(i).SetRules(d, modes, Names(h.rules), params, cluster_.now());
    Publish(i);
  }

  void BeforeTick(int i) {
    FollowNumbering(i);
    Host& h = hosts_[i];
    const MapSnapshot& s = *h.snapshot;
    // The data path's amortized sweep: drop flows of buckets this host neither owns nor moves.
    h.table->Sweep(cluster_.now(), h.table->slot_count(), [&](uint32_t rule, uint32_t bucket) {
      if (rule >= s.rules.size() || s.rules[rule].bucket_owner.empty()) return false;
      const RuleMap& m = s.rules[rule];
      return m.bucket_owner[bucket] == h.id || (m.moving && m.moving->Contains(bucket));
    });
    // As the agent: counts in another numbering than the rules' are not fed.
    if (h.table->rule_epoch() != h.numbering->epoch) return;
    std::vector<BucketSet> sets(h.rules.size());
    for (uint32_t r = 0; r < sets.size(); ++r) {
      if (h.table->RuleConnections(r) == 0) continue;
      for (uint32_t b = 0; b < kBucketCount; ++b) {
        if (h.table->Connections(r, b) > 0) sets[r].Add(b);
      }
    }
    cluster_.host(i).SetLocalConnections(sets, h.snapshot->generation);
  }

  void AfterTick(int i, const Convergence::Actions& actions) {
    if (actions.map_changed || actions.moving_changed) Publish(i);
  }

  void Publish(int i) {
    Host& h = hosts_[i];
    Convergence& c = cluster_.host(i);
    auto s = std::make_shared<MapSnapshot>();
    if (const ConvergedMap* map = c.CurrentMap()) {
      const bool serving = c.serving() && h.role != HostRole::kStopped;
      *s = ToMapSnapshot(*map, h.rules, {kVip}, h.id, serving, c.MovingSnapshot(),
                         c.PendingSnapshot());
    }
    s->numbering = h.numbering;
    h.snapshot = std::move(s);
  }

  void SetRole(int i, HostRole role) {
    hosts_[i].role = role;
    cluster_.host(i).SetRole(role, cluster_.now());
    Publish(i);
  }

  static std::vector<uint8_t> Frame(const IpAddress& client, uint16_t port, uint8_t flags) {
    return PacketBuilder().Ipv4(client, kVip).Tcp(port, 80, flags).Build();
  }

  // Hands one packet to every live host; returns the indexes that accepted it (valid until the
  // next Send).
  const std::vector<int>& Send(const std::vector<uint8_t>& frame) {
    accepted_.clear();
    for (int i = 0; i < static_cast<int>(hosts_.size()); ++i) {
      if (!cluster_.alive(i)) continue;
      FollowNumbering(i);
      ParsedPacket packet;
      const Decision d =
          DecideTracked(frame, *hosts_[i].snapshot, *hosts_[i].table, cluster_.now(), &packet);
      if (d.verdict == Verdict::kAccept) accepted_.push_back(i);
    }
    return accepted_;
  }

  // A client opens a connection: SYN, then the handshake's ACK. False if no host took the SYN
  // (the client would retransmit it).
  bool Open() {
    Connection c;
    const uint32_t n = next_client_++;
    const uint8_t a[4] = {198, 19, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
    c.client = IpAddress::V4(a);
    c.port = static_cast<uint16_t>(10000 + rng_() % 50000);
    c.opened = cluster_.now();
    c.ack = Frame(c.client, c.port, kTcpAck);
    const std::vector<int>& syn = Send(Frame(c.client, c.port, kTcpSyn));
    EXPECT_LE(syn.size(), 1u) << "two hosts accepted one SYN";
    if (syn.size() != 1) {
      ++syn_unanswered_;
      return false;
    }
    c.host = syn[0];
    connections_.push_back(std::move(c));
    Check(connections_.back(), kTcpAck);
    return true;
  }

  void Check(Connection& c, uint8_t flags) {
    const std::vector<int>& accepted =
        flags == kTcpAck ? Send(c.ack) : Send(Frame(c.client, c.port, flags));
    if (accepted.size() != 1 || accepted[0] != c.host) {
      ++violations_;
      if (violations_ <= 5) {
        std::string who;
        for (int i : accepted) who += " " + std::to_string(hosts_[i].id);
        ADD_FAILURE() << "packet of a connection on host " << hosts_[c.host].id << " accepted by {"
                      << who << " } at +"
                      << std::chrono::duration_cast<std::chrono::milliseconds>(cluster_.now() -
                                                                               start_)
                             .count()
                      << " ms";
      }
    }
  }

  // Every live connection sends one packet.
  void Traffic() {
    for (Connection& c : connections_) {
      if (c.live && cluster_.alive(c.host)) Check(c, kTcpAck);
    }
  }

  void Close(Connection& c) {
    Check(c, kTcpFin | kTcpAck);
    Check(c, kTcpAck);
    c.live = false;
  }

  // Runs `duration` in steps of 50 ms: traffic on every connection, and `opens` new ones a step.
  void Run(Duration duration, int opens = 1) {
    for (Duration t{}; t < duration; t += 50ms) {
      cluster_.Run(50ms);
      Traffic();
      for (int k = 0; k < opens; ++k) Open();
    }
  }

  int Index(uint16_t id) const {
    for (size_t i = 0; i < hosts_.size(); ++i) {
      if (hosts_[i].id == id) return static_cast<int>(i);
    }
    return -1;
  }
  uint32_t Holding(uint16_t id) {
    uint32_t n = 0;
    for (size_t r = 0; r < hosts_[Index(id)].rules.size(); ++r) {
      n += cluster_.host(Index(id)).HoldingBuckets(r);
    }
    return n;
  }
  uint32_t Contested(uint16_t id) {
    uint32_t n = 0;
    for (size_t r = 0; r < hosts_[Index(id)].rules.size(); ++r) {
      n += cluster_.host(Index(id)).ContestedBuckets(r);
    }
    return n;
  }
  size_t LiveOn(int index) const {
    size_t n = 0;
    for (const Connection& c : connections_) n += c.live && c.host == index ? 1 : 0;
    return n;
  }
  void CloseAll(const std::function<bool(const Connection&)>& which) {
    for (Connection& c : connections_) {
      if (c.live && which(c)) Close(c);
    }
  }

  struct Host {
    uint16_t id = 0;
    HostRole role = HostRole::kActive;
    std::vector<PortRule> rules = Rules();
    std::shared_ptr<const RuleNumbering> numbering;  // of rules, published with the snapshots
    std::unique_ptr<DescriptorTable> table;
    std::shared_ptr<const RuleNumbering> table_numbering;  // the data path's
    std::shared_ptr<const MapSnapshot> snapshot;
  };

  std::chrono::milliseconds moving_timeout_{300000};
  SimCluster cluster_;
  std::vector<Host> hosts_;
  std::vector<Connection> connections_;
  std::vector<int> accepted_;  // Send's
  std::mt19937 rng_{11};
  uint32_t next_client_ = 1;
  uint64_t violations_ = 0;
  uint64_t syn_unanswered_ = 0;
  TimePoint start_ = cluster_.now();
};

// The moves an operator or the cluster makes, each starting from three converged hosts with
// connections on all of them. After each: no connection broke, new connections reach the new
// owners, and once the connections that were open during the move have closed, nothing moves.
struct MoveCase {
  std::string name;
  std::function<void(ConnectionMovesTest&)> act;
  uint16_t loses;  // a host that takes no new connection afterwards (0: none)
};

class ConnectionMoveCases : public ConnectionMovesTest,
                            public ::testing::WithParamInterface<MoveCase> {};

TEST_P(ConnectionMoveCases, NoConnectionBreaks) {
  const MoveCase& c = GetParam();
  for (uint16_t id : {1, 2, 3}) StartHost(id);
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, 10s));
  Run(3s, kOpens);  // 1200 connections over the three hosts
  for (int i = 0; i < 3; ++i) EXPECT_GT(LiveOn(i), 250u) << "host index " << i;
  syn_unanswered_ = 0;  // the first map starts with every bucket pending for a moment

  c.act(*this);
  Run(8s, 2);
  EXPECT_EQ(violations_, 0u);
  uint32_t moving = 0;
  for (uint16_t id : {1, 2, 3, 4}) {
    if (Index(id) >= 0) moving += Holding(id) + Contested(id);
  }
  EXPECT_GT(moving, 0u) << "the move left no bucket moving: connections were not followed";
  if (c.loses != 0) {
    const size_t before = connections_.size();
    Run(2s, kOpens / 2);
    for (size_t k = before; k < connections_.size(); ++k) {
      EXPECT_NE(hosts_[connections_[k].host].id, c.loses)
          << "a new connection went to a host that lost its share";
    }
  }

  // The old connections close: the holders report empty, the new owners own alone.
  const TimePoint now = cluster_.now();
  CloseAll([&](const Connection& conn) { return conn.opened <= now; });
  Run(14s, 0);  // close delay (10 s) plus a few heartbeats
  EXPECT_EQ(violations_, 0u);
  for (uint16_t id : {1, 2, 3, 4}) {
    if (Index(id) < 0) continue;
    EXPECT_EQ(Holding(id), 0u) << "host " << id << " still holds buckets";
    EXPECT_EQ(Contested(id), 0u) << "host " << id << " still waits for other hosts";
    EXPECT_EQ(hosts_[Index(id)].table->size(), 0u) << "host " << id;
    hosts_[Index(id)].table->ForEach([&](const FlowKey& k, uint32_t bucket, FlowState state,
                                         uint32_t seen) {
      std::string owner = "?";
      for (const Connection& conn : connections_) {
        if (conn.client == k.client && conn.port == k.client_port)
          owner = std::to_string(hosts_[conn.host].id) + (conn.live ? " live" : " closed") +
                  " opened +" +
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::milliseconds>(conn.opened - start_)
                          .count());
      }
      ADD_FAILURE() << "left on host " << id << ": " << k.client.ToString() << ":" << k.client_port
                    << " bucket " << bucket << " state " << int(state) << " seen " << seen
                    << " conn host " << owner;
    });
  }
  EXPECT_LT(syn_unanswered_, 20u) << "SYNs nobody took (clients retransmit them)";
}

INSTANTIATE_TEST_SUITE_P(
    Moves, ConnectionMoveCases,
    ::testing::Values(
        MoveCase{"join", [](ConnectionMovesTest& f) { f.StartHost(4); }, 0},
        MoveCase{"drainstop",
                 [](ConnectionMovesTest& f) { f.SetRole(f.Index(2), HostRole::kDraining); }, 2},
        MoveCase{"weight_change",
                 [](ConnectionMovesTest& f) {
                   f.cluster_.host(f.Index(1))
                       .SetRuleParams({{10, 1}, {50, 1}, {50, 1}}, f.cluster_.now());
                 },
                 0},
        MoveCase{"drain_rule",
                 [](ConnectionMovesTest& f) {
                   f.cluster_.host(f.Index(3))
                       .SetRuleParams({{0, 3}, {50, 3}, {50, 3}}, f.cluster_.now());
                 },
                 3}),
    [](const ::testing::TestParamInfo<MoveCase>& p) { return p.param.name; });

TEST_F(ConnectionMovesTest, CrashLosesOnlyTheDeadHostsConnections) {
  for (uint16_t id : {1, 2, 3}) StartHost(id);
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, 10s));
  Run(2s, kOpens / 2);
  // Host 3 joined late-ish in earlier moves; here host 1 simply dies with its connections.
  StartHost(4);
  Run(3s, kOpens / 5);  // buckets moving towards host 4 from 1, 2 and 3
  cluster_.Crash(Index(1));
  for (Connection& c : connections_) {
    if (c.host == Index(1)) c.live = false;  // lost with their host
  }
  Run(10s, 1);
  EXPECT_EQ(violations_, 0u);
  EXPECT_EQ(Holding(2) + Holding(3) + Holding(4) > 0, true);
  // Nothing waits for the dead host: no bucket is contested because of it.
  CloseAll([](const Connection&) { return true; });
  Run(14s, 0);
  for (uint16_t id : {2, 3, 4}) EXPECT_EQ(Contested(id), 0u) << id;
}

TEST_F(ConnectionMovesTest, MovesEndAfterTheTimeout) {
  moving_timeout_ = 20s;
  for (uint16_t id : {1, 2, 3}) StartHost(id);
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, 10s));
  Run(2s, kOpens / 2);
  StartHost(4);
  Run(15s, 0);
  EXPECT_EQ(violations_, 0u);
  EXPECT_GT(Holding(1) + Holding(2) + Holding(3), 0u);
  // The connections stay open but go quiet; after the timeout host 4 owns its buckets alone.
  cluster_.Run(10s);
  for (uint16_t id : {1, 2, 3, 4}) {
    EXPECT_EQ(Holding(id), 0u) << id;
    EXPECT_EQ(Contested(id), 0u) << id;
  }
}

// The rules after a cluster-wide reload that adds "api", which sorts before every existing rule:
// web goes from index 0 to 1, mail from 1 to 2, telnet from 2 to 3.
std::vector<PortRule> RulesWithApiFirst() {
  std::vector<PortRule> rules = Rules();
  PortRule api;
  api.name = "api";
  api.vip = kVip;
  api.first_port = api.last_port = 8080;
  api.protocol = Protocol::kTcp;
  api.affinity = Affinity::kNone;
  rules.insert(rules.begin(), api);
  return rules;
}

// `nlbctl reload --cluster` that renumbers web: the hosts switch a few milliseconds apart, while
// connections run (and, in the second case, while a join's buckets are still moving). Web keeps
// its owners (its seed is its name's), so nothing of web moves, and no packet of a live
// connection is accepted by zero or two hosts at any step.
class ReloadRenumbering : public ConnectionMovesTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ReloadRenumbering, NoConnectionBreaks) {
  const bool during_a_join = GetParam();
  for (uint16_t id : {1, 2, 3}) StartHost(id);
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2, 3}, 10s));
  Run(3s, kOpens);
  syn_unanswered_ = 0;
  if (during_a_join) {
    StartHost(4);
    Run(3s, 1);
    ASSERT_GT(Holding(1) + Holding(2) + Holding(3), 0u) << "the join moved nothing alive";
  }
  const std::vector<uint16_t> web_before = cluster_.host(0).CurrentMap()->rules[0].bucket_owner;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    Reload(static_cast<int>(i), RulesWithApiFirst(), 0xcd);
    cluster_.Run(3ms);
    Traffic();
  }
  Run(8s, 2);
  EXPECT_EQ(violations_, 0u);
  for (size_t i = 0; i < hosts_.size(); ++i) {
    const ConvergedMap* map = cluster_.host(static_cast<int>(i)).CurrentMap();
    ASSERT_NE(map, nullptr);
    ASSERT_EQ(map->rules.size(), 4u);
    EXPECT_EQ(map->rules[0].name, "api");
    EXPECT_EQ(map->rules[1].name, "web");
    if (!during_a_join) {
      EXPECT_EQ(map->rules[1].bucket_owner, web_before) << "web's owners moved";
    }
    // The connections are tracked under web's new index.
    EXPECT_EQ(hosts_[i].table->RuleConnections(0), 0u);
    EXPECT_GT(hosts_[i].table->RuleConnections(1), 0u);
  }
  if (!during_a_join) {
    for (uint16_t id : {1, 2, 3}) EXPECT_EQ(Holding(id) + Contested(id), 0u) << "host " << id;
  }
  // New connections still reach every host, and the old ones close without a trace.
  const TimePoint now = cluster_.now();
  CloseAll([&](const Connection& conn) { return conn.opened <= now; });
  Run(14s, 0);
  EXPECT_EQ(violations_, 0u);
  for (size_t i = 0; i < hosts_.size(); ++i) {
    EXPECT_EQ(Holding(hosts_[i].id), 0u) << "host " << hosts_[i].id;
    EXPECT_EQ(Contested(hosts_[i].id), 0u) << "host " << hosts_[i].id;
  }
  EXPECT_LT(syn_unanswered_, 20u) << "SYNs nobody took (clients retransmit them)";
}

INSTANTIATE_TEST_SUITE_P(Reload, ReloadRenumbering, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? std::string("during_a_join") : std::string("alone");
                         });

// Without tracking a move resets connections: the same join with the plain Decide breaks some,
// which is what the invariant above would catch.
TEST_F(ConnectionMovesTest, PlainDecideBreaksConnectionsOnAJoin) {
  for (uint16_t id : {1, 2}) StartHost(id);
  ASSERT_TRUE(cluster_.RunUntilAgreed({1, 2}, 10s));
  Run(1s, 100);
  StartHost(3);
  cluster_.Run(5s);
  size_t broken = 0;
  for (const Connection& c : connections_) {
    const std::vector<uint8_t> frame =
        PacketBuilder().Ipv4(c.client, kVip).Tcp(c.port, 80, kTcpAck).Build();
    for (int i = 0; i < 3; ++i) {
      ParsedPacket packet;
      if (i != c.host && Decide(frame, *hosts_[i].snapshot, &packet).verdict == Verdict::kAccept) {
        ++broken;
      }
    }
  }
  EXPECT_GT(broken, connections_.size() / 5);
}

}  // namespace
}  // namespace nlb
