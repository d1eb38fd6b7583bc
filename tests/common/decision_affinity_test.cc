// Decide() and the affinities' promises on the decision tables' cluster: none spreads one
// client's connections, single keeps a client on one host, network keeps a /24 or an IPv6 prefix
// on one host; and the invariant that matters most: exactly one host accepts each packet.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "common/decision.h"
#include "common/flow_hash.h"
#include "tests/support/decision_cluster.h"
#include "tests/support/decision_table.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using test::DecisionCluster;
using test::Ip;
using test::PacketBuilder;
// The cluster, its snapshot and the tables are shared with the BPF agreement test.
using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

// Affinity none: one client's connections spread; single: they stay on one host.
TEST(DecideTest, AffinityNoneSpreadsAClientsPorts) {
  const DecisionCluster cluster;
  std::set<uint16_t> hosts_used;
  for (uint16_t port = 30000; port < 30200; ++port) {
    const std::vector<uint16_t> accepting = cluster.Accepting(Tcp(kClient, kVip, port, 80));
    ASSERT_EQ(accepting.size(), 1u);
    hosts_used.insert(accepting[0]);
  }
  EXPECT_EQ(hosts_used.size(), kHosts);
}

TEST(DecideTest, AffinitySingleKeepsAClientOnOneHost) {
  const DecisionCluster cluster;
  std::set<uint16_t> hosts_over_clients;
  for (int client = 1; client < 40; ++client) {
    uint8_t raw[4] = {198, 18, 2, static_cast<uint8_t>(client)};
    const IpAddress src = IpAddress::V4(raw);
    std::set<uint16_t> hosts_used;
    for (uint16_t port = 30000; port < 30050; ++port) {
      const std::vector<uint16_t> accepting = cluster.Accepting(Tcp(src, kVip, port, 443));
      ASSERT_EQ(accepting.size(), 1u);
      hosts_used.insert(accepting[0]);
    }
    EXPECT_EQ(hosts_used.size(), 1u) << src.ToString();
    hosts_over_clients.insert(*hosts_used.begin());
  }
  EXPECT_EQ(hosts_over_clients.size(), kHosts) << "clients still spread over the cluster";
}

TEST(DecideTest, AffinityNetworkKeepsASubnetOnOneHost) {
  const DecisionCluster cluster;
  std::set<uint16_t> hosts_over_subnets;
  for (int subnet = 0; subnet < 30; ++subnet) {
    std::set<uint16_t> hosts_used;
    for (int host = 1; host < 255; host += 7) {
      uint8_t raw[4] = {198, 19, static_cast<uint8_t>(subnet), static_cast<uint8_t>(host)};
      const std::vector<uint16_t> accepting = cluster.Accepting(
          Udp(IpAddress::V4(raw), kVip, static_cast<uint16_t>(1024 + host), 1234));
      ASSERT_EQ(accepting.size(), 1u);
      hosts_used.insert(accepting[0]);
    }
    EXPECT_EQ(hosts_used.size(), 1u) << "198.19." << subnet << ".0/24";
    hosts_over_subnets.insert(*hosts_used.begin());
  }
  EXPECT_EQ(hosts_over_subnets.size(), kHosts);
}

TEST(DecideTest, AffinityNetworkKeepsAnIpv6PrefixOnOneHost) {
  const DecisionCluster cluster;
  std::set<uint16_t> hosts_over_prefixes;
  for (int prefix = 0; prefix < 30; ++prefix) {
    std::set<uint16_t> hosts_used;
    for (int i = 0; i < 20; ++i) {
      // 2001:2:<prefix>::/48, varying the bits after the prefix.
      IpAddress src = Ip("2001:2::");
      src.bytes[5] = static_cast<uint8_t>(prefix);
      src.bytes[6] = static_cast<uint8_t>(i * 13);
      src.bytes[15] = static_cast<uint8_t>(i);
      const std::vector<uint16_t> accepting =
          cluster.Accepting(Tcp(src, kVip6, static_cast<uint16_t>(2000 + i), 443));
      ASSERT_EQ(accepting.size(), 1u);
      hosts_used.insert(accepting[0]);
    }
    EXPECT_EQ(hosts_used.size(), 1u) << "prefix " << prefix;
    hosts_over_prefixes.insert(*hosts_used.begin());
  }
  EXPECT_EQ(hosts_over_prefixes.size(), kHosts);
}

// The key invariant: for any data packet, exactly one host of the cluster accepts it (none only
// when its rule is disabled).
TEST(DecideTest, ExactlyOneHostAcceptsEachPacket) {
  const DecisionCluster cluster;
  std::mt19937 rng(12345);
  const std::vector<IpAddress> vips = {kVip, kVip2, kVip6};
  const std::vector<uint16_t> ports = {80, 443, 1000, 1500, 1999, 25, 23, 8080, 53, 9999, 22};
  std::vector<int> accepted_by(kHosts + 1, 0);
  for (int i = 0; i < 20000; ++i) {
    const IpAddress& dst = vips[rng() % vips.size()];
    IpAddress src = dst.is_v4() ? Ip("198.18.0.0") : Ip("2001:2::");
    for (uint32_t b = dst.is_v4() ? 2 : 4; b < src.size(); ++b) {
      src.bytes[b] = static_cast<uint8_t>(rng());
    }
    PacketBuilder builder;
    if (dst.is_v4()) {
      builder.Ipv4(src, dst);
    } else {
      builder.Ipv6(src, dst);
    }
    const uint16_t dst_port = ports[rng() % ports.size()];
    const auto src_port = static_cast<uint16_t>(rng());
    switch (rng() % 5) {
      case 0:
        builder.Udp(src_port, dst_port);
        break;
      case 1:
        builder.Fragment(static_cast<uint16_t>(8 * (1 + rng() % 100)), rng() % 2 == 0)
            .Protocol(rng() % 2 ? kIpProtoTcp : kIpProtoUdp)
            .Payload(16);
        break;
      default:
        builder.Tcp(src_port, dst_port, kTcpAck);
        break;
    }
    const bool tagged = rng() % 10 == 0;
    if (tagged) builder.Vlan(static_cast<uint16_t>(rng() % 4096));
    const std::vector<uint8_t> frame = builder.Build();
    const std::vector<Decision> decisions = cluster.DecideAll(frame);
    int accepts = 0;
    for (size_t h = 0; h < decisions.size(); ++h) {
      if (decisions[h].verdict == Verdict::kAccept) {
        ++accepts;
        ++accepted_by[h + 1];
      }
    }
    if (tagged) {  // another VLAN's: nobody's
      ASSERT_EQ(decisions[0].reason, DecisionReason::kForeignVlan) << "iteration " << i;
      ASSERT_EQ(accepts, 0) << "iteration " << i;
    } else if (decisions[0].reason == DecisionReason::kRuleDisabled) {
      ASSERT_EQ(accepts, 0) << "iteration " << i;
    } else {
      ASSERT_EQ(accepts, 1) << "iteration " << i << " to " << dst.ToString() << ":" << dst_port;
    }
  }
  for (uint16_t h = 1; h <= kHosts; ++h) EXPECT_GT(accepted_by[h], 2000) << "host " << h;
}

// The decision keys network affinity through FlowHash's byte-wise masking; it must equal hashing
// the address masked bit by bit (IpAddress::Masked) for every prefix length. (Kept here rather
// than in flow_hash_test.cc, which holds the protocol's golden vectors.)
TEST(DecideTest, NetworkKeyEqualsMaskedAddress) {
  std::mt19937 rng(99);
  for (int i = 0; i < 50; ++i) {
    uint8_t raw[16];
    for (auto& byte : raw) byte = static_cast<uint8_t>(rng());
    const IpAddress v6 = IpAddress::V6(raw);
    for (uint32_t prefix = 0; prefix <= 128; ++prefix) {
      ASSERT_EQ(FlowHash(v6, true, 80, Affinity::kNetwork, static_cast<uint8_t>(prefix)),
                FlowHash(v6.Masked(prefix), false, 0, Affinity::kSingle, 0))
          << v6.ToString() << "/" << prefix;
    }
    const IpAddress v4 = IpAddress::V4(raw);
    ASSERT_EQ(FlowHash(v4, true, 80, Affinity::kNetwork, 64),
              FlowHash(v4.Masked(24), false, 0, Affinity::kSingle, 0));
  }
}

}  // namespace
}  // namespace nlb
