// Decide() by the tables: {frame, rule, who accepts, expected verdict and reason} on each of the
// three hosts (the tables are tests/support/decision_table.cc; the BPF agreement test runs them
// through the kernel too), and the fragment tables with the promise behind them: every piece of
// one datagram lands on one host. Affinities are decision_affinity_test.cc, states the tables
// leave out decision_states_test.cc, counters and names decision_counters_test.cc.
#include "tests/support/decision_table.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/decision.h"
#include "common/flow_hash.h"
#include "tests/support/decision_cluster.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using test::DecisionCluster;
using test::PacketBuilder;
// The cluster, its snapshot and the tables are shared with the BPF agreement test.
using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

void RunTable(const std::vector<Case>& cases) {
  const DecisionCluster cluster;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    uint16_t owner = c.owner;
    uint32_t bucket = 0;
    Outcome on_owner = c.on_owner;
    Outcome on_others = c.on_others;
    if (c.key) {
      bucket = BucketOfHash(FlowHash(c.key->source, c.key->has_port, c.key->port, c.key->affinity,
                                     c.key->ipv6_prefix));
      owner = cluster.hosts[0].rules[static_cast<size_t>(c.rule_index)].bucket_owner[bucket];
      on_owner = kOwned;
      on_others = kOthersBucket;
    }
    const std::vector<Decision> decisions = cluster.DecideAll(c.frame);
    for (uint16_t host = 1; host <= kHosts; ++host) {
      SCOPED_TRACE("host " + std::to_string(host));
      const Decision& d = decisions[host - 1];
      const Outcome& want = host == owner ? on_owner : on_others;
      EXPECT_EQ(d.verdict, want.verdict);
      EXPECT_EQ(d.reason, want.reason);
      EXPECT_EQ(d.rule_index, c.rule_index);
      EXPECT_EQ(ParseVerdictName(d.parse), ParseVerdictName(c.parse));
      if (c.key) {
        EXPECT_EQ(d.bucket, bucket);
      }
    }
  }
}

TEST(DecideTest, Table) { RunTable(TableCases()); }

// Fragments: every piece of a datagram is matched by (VIP, protocol) and keyed on addresses.
TEST(DecideTest, FragmentTable) { RunTable(FragmentCases()); }

// All pieces of one datagram get the same verdict on every host, for many clients.
TEST(DecideTest, FragmentsOfOneDatagramStayTogether) {
  const DecisionCluster cluster;
  std::mt19937 rng(7);
  std::set<uint16_t> hosts_used;
  for (int i = 0; i < 500; ++i) {
    uint8_t raw[4] = {198, 18, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())};
    const IpAddress src = IpAddress::V4(raw);
    const IpAddress dst = i % 2 ? kVip : kVip2;
    const uint16_t port = i % 2 ? 1500 : 53;
    const std::vector<std::vector<uint8_t>> pieces = {
        PacketBuilder()
            .Ipv4(src, dst)
            .Fragment(0, true)
            .Udp(static_cast<uint16_t>(rng()), port)
            .Payload(1472)
            .Build(),
        PacketBuilder()
            .Ipv4(src, dst)
            .Fragment(1480, true)
            .Protocol(kIpProtoUdp)
            .Payload(1480)
            .Build(),
        PacketBuilder()
            .Ipv4(src, dst)
            .Fragment(2960, false)
            .Protocol(kIpProtoUdp)
            .Payload(100)
            .Build(),
    };
    const std::vector<Decision> reference = cluster.DecideAll(pieces[0]);
    const std::vector<uint16_t> accepting = cluster.Accepting(pieces[0]);
    ASSERT_EQ(accepting.size(), 1u) << src.ToString();
    hosts_used.insert(accepting[0]);
    for (size_t p = 1; p < pieces.size(); ++p) {
      const std::vector<Decision> got = cluster.DecideAll(pieces[p]);
      for (size_t h = 0; h < got.size(); ++h) {
        EXPECT_EQ(got[h].verdict, reference[h].verdict) << src.ToString() << " piece " << p;
        EXPECT_EQ(got[h].reason, reference[h].reason);
        EXPECT_EQ(got[h].rule_index, reference[h].rule_index);
        EXPECT_EQ(got[h].bucket, reference[h].bucket);
      }
    }
  }
  EXPECT_EQ(hosts_used.size(), kHosts) << "fragments still spread over the cluster";
}

}  // namespace
}  // namespace nlb
