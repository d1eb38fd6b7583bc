// Decide: tables of {frame, expected outcome on each of three hosts}, the affinities' promises,
// fragments, and the invariant that matters most: exactly one host of the cluster accepts.
#include "common/decision.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/flow_hash.h"
#include "tests/support/decision_table.h"
#include "tests/support/packet_builder.h"

namespace nlb {

void PrintTo(Verdict v, std::ostream* os) { *os << VerdictName(v); }
void PrintTo(DecisionReason r, std::ostream* os) { *os << DecisionReasonName(r); }

namespace {

using test::Ip;
using test::PacketBuilder;
// The cluster, its snapshot and the tables are shared with the BPF agreement test.
using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

// The same cluster seen from each host.
struct Cluster {
  std::vector<MapSnapshot> hosts;
  Cluster() {
    for (uint16_t h = 1; h <= kHosts; ++h) hosts.push_back(Snapshot(h));
  }
  std::vector<Decision> DecideAll(const std::vector<uint8_t>& frame) const {
    std::vector<Decision> out;
    for (const MapSnapshot& s : hosts) {
      ParsedPacket packet;
      out.push_back(Decide(frame, s, &packet));
    }
    return out;
  }
  // The host ids that accepted.
  std::vector<uint16_t> Accepting(const std::vector<uint8_t>& frame) const {
    std::vector<uint16_t> out;
    const std::vector<Decision> all = DecideAll(frame);
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].verdict == Verdict::kAccept) out.push_back(static_cast<uint16_t>(i + 1));
    }
    return out;
  }
};

void RunTable(const std::vector<Case>& cases) {
  const Cluster cluster;
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
  const Cluster cluster;
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

// Affinity none: one client's connections spread; single: they stay on one host.
TEST(DecideTest, AffinityNoneSpreadsAClientsPorts) {
  const Cluster cluster;
  std::set<uint16_t> hosts_used;
  for (uint16_t port = 30000; port < 30200; ++port) {
    const std::vector<uint16_t> accepting = cluster.Accepting(Tcp(kClient, kVip, port, 80));
    ASSERT_EQ(accepting.size(), 1u);
    hosts_used.insert(accepting[0]);
  }
  EXPECT_EQ(hosts_used.size(), kHosts);
}

TEST(DecideTest, AffinitySingleKeepsAClientOnOneHost) {
  const Cluster cluster;
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
  const Cluster cluster;
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
  const Cluster cluster;
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
  const Cluster cluster;
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

TEST(DecideTest, NotServingDropsVipTrafficButAnswersNeighbours) {
  MapSnapshot s = Snapshot(kDefaultHost);
  s.serving = false;
  ParsedPacket packet;
  const std::vector<std::vector<uint8_t>> data = {
      Tcp(kClient, kVip, 1, 80), Tcp(kClient, kVip, 1, 9999),
      PacketBuilder().Ipv4(kClient, kVip).IcmpEcho().Build(), Tcp(kClient6, kVip6, 1, 443)};
  for (const auto& frame : data) {
    const Decision d = Decide(frame, s, &packet);
    EXPECT_EQ(d.verdict, Verdict::kDrop);
    EXPECT_EQ(d.reason, DecisionReason::kNotServing);
  }
  EXPECT_EQ(Decide(Tcp(kClient, kNotVip, 1, 80), s, &packet).reason, DecisionReason::kNotForVip);
  const Decision arp = Decide(PacketBuilder().ArpRequest(kClient, kVip).Build(), s, &packet);
  EXPECT_EQ(arp.verdict, Verdict::kNeighbour);
  // Another VLAN's frame is that, serving or not: the tag is checked before the serving state.
  const auto tagged = PacketBuilder().Vlan(10).Ipv4(kClient, kVip).Tcp(1, 80).Build();
  EXPECT_EQ(Decide(tagged, s, &packet).reason, DecisionReason::kForeignVlan);
}

// A snapshot taken before this host has an id, or a rule with no owners yet, accepts nothing.
TEST(DecideTest, UnassignedOwnersAcceptNothing) {
  ParsedPacket packet;
  MapSnapshot no_id = Snapshot(kNoHost);
  no_id.default_host_id = kNoHost;
  no_id.rules[kMailSingleHost].single_owner = kNoHost;
  for (auto& rule : no_id.rules) {
    if (!rule.bucket_owner.empty())
      std::fill(rule.bucket_owner.begin(), rule.bucket_owner.end(), kNoHost);
  }
  EXPECT_EQ(Decide(Tcp(kClient, kVip, 1, 9999), no_id, &packet).reason,
            DecisionReason::kOtherDefaultHost);
  EXPECT_EQ(Decide(Tcp(kClient, kVip, 1, 25), no_id, &packet).reason,
            DecisionReason::kOtherSingleHost);
  EXPECT_EQ(Decide(Tcp(kClient, kVip, 1, 443), no_id, &packet).reason,
            DecisionReason::kOtherHostsBucket);

  MapSnapshot empty_map = Snapshot(1);
  empty_map.rules[kTlsSingle].bucket_owner.clear();
  const Decision d = Decide(Tcp(kClient, kVip, 1, 443), empty_map, &packet);
  EXPECT_EQ(d.verdict, Verdict::kDrop);
  EXPECT_EQ(d.reason, DecisionReason::kOtherHostsBucket);
}

TEST(DecideTest, TruncatedFramesAreMalformedAtEveryLength) {
  const MapSnapshot s = Snapshot(kDefaultHost);
  const std::vector<std::vector<uint8_t>> frames = {
      Tcp(kClient, kVip, 1, 80), Tcp(kClient6, kVip6, 1, 443),
      PacketBuilder().Vlan(3).Ipv4(kClient, kVip).Fragment(0, true).Udp(1, 53).Build(),
      PacketBuilder().ArpRequest(kClient, kVip).Build(),
      PacketBuilder()
          .Ipv6(kClient6, test::SolicitedNodeMulticast(kVip6))
          .NeighbourSolicitation(kVip6)
          .Build()};
  for (const auto& frame : frames) {
    for (size_t length = 0; length < frame.size(); ++length) {
      const std::vector<uint8_t> cut(frame.begin(), frame.begin() + length);
      ParsedPacket packet;
      const Decision d = Decide(cut, s, &packet);
      EXPECT_EQ(d.verdict, Verdict::kDrop) << length;
      EXPECT_EQ(d.reason, DecisionReason::kMalformed) << length;
      EXPECT_NE(d.parse, ParseVerdict::kOk) << length;
    }
  }
}

TEST(DecideTest, PacketReceivesTheParse) {
  const MapSnapshot s = Snapshot(kDefaultHost);
  ParsedPacket packet;
  (void)Decide(PacketBuilder().Vlan(5).Ipv4(kClient, kVip).Tcp(1, 80).PadTo(80).Build(), s,
               &packet);
  EXPECT_EQ(packet.l3_offset, 18u);
  EXPECT_EQ(packet.l3_length, 40u);
  EXPECT_EQ(packet.dst_port, 80);
}

TEST(DecisionCountersTest, CountsPacketsBytesAndParseVerdicts) {
  DecisionCounters counters;
  Decision owned;
  owned.verdict = Verdict::kAccept;
  owned.reason = DecisionReason::kOwnedBucket;
  Decision malformed;
  malformed.reason = DecisionReason::kMalformed;
  malformed.parse = ParseVerdict::kTruncatedTcp;
  Decision not_vip;
  not_vip.reason = DecisionReason::kNotForVip;
  not_vip.parse = ParseVerdict::kUnsupportedEthertype;

  counters.Count(owned, 100);
  counters.Count(owned, 60);
  counters.Count(malformed, 40);
  counters.Count(not_vip, 64);

  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOwnedBucket), 2u);
  EXPECT_EQ(counters.ReadBytes(DecisionReason::kOwnedBucket), 160u);
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kMalformed), 1u);
  EXPECT_EQ(counters.ReadBytes(DecisionReason::kMalformed), 40u);
  EXPECT_EQ(counters.ReadMalformed(ParseVerdict::kTruncatedTcp), 1u);
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kNotForVip), 1u);
  // Only malformed decisions count by parse verdict.
  EXPECT_EQ(counters.ReadMalformed(ParseVerdict::kUnsupportedEthertype), 0u);
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOtherHostsBucket), 0u);
}

TEST(DecisionCountersTest, CountsWhatDecideSays) {
  const MapSnapshot s = Snapshot(kDefaultHost);
  DecisionCounters counters;
  const std::vector<std::vector<uint8_t>> frames = {
      Tcp(kClient, kVip, 1, 9999), Tcp(kClient, kVip, 2, 9999), Tcp(kClient, kNotVip, 1, 80),
      test::Truncated(Tcp(kClient, kVip, 1, 80), 20)};
  for (const auto& frame : frames) {
    ParsedPacket packet;
    counters.Count(Decide(frame, s, &packet), static_cast<uint32_t>(frame.size()));
  }
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kDefaultHost), 2u);
  EXPECT_EQ(counters.ReadBytes(DecisionReason::kDefaultHost), 2 * frames[0].size());
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kNotForVip), 1u);
  EXPECT_EQ(counters.ReadMalformed(ParseVerdict::kTruncatedIpv4), 1u);
}

TEST(DecisionCountersTest, CountsPerRuleAndVerdict) {
  DecisionCounters counters;
  Decision accepted;
  accepted.verdict = Verdict::kAccept;
  accepted.reason = DecisionReason::kOwnedBucket;
  accepted.rule_index = 1;
  Decision dropped;
  dropped.reason = DecisionReason::kOtherHostsBucket;
  dropped.rule_index = 1;
  Decision no_rule;
  no_rule.verdict = Verdict::kAccept;
  no_rule.reason = DecisionReason::kDefaultHost;
  Decision beyond = accepted;
  beyond.rule_index = static_cast<int16_t>(DecisionCounters::kMaxCountedRules);
  counters.Count(accepted, 100);
  counters.Count(accepted, 50);
  counters.Count(dropped, 70);
  counters.Count(no_rule, 10);
  counters.Count(beyond, 10);
  EXPECT_EQ(counters.ReadRulePackets(1, true), 2u);
  EXPECT_EQ(counters.ReadRuleBytes(1, true), 150u);
  EXPECT_EQ(counters.ReadRulePackets(1, false), 1u);
  EXPECT_EQ(counters.ReadRuleBytes(1, false), 70u);
  EXPECT_EQ(counters.ReadRulePackets(0, true), 0u);
  EXPECT_EQ(counters.ReadRulePackets(DecisionCounters::kMaxCountedRules, true), 0u);
  // Every packet still counts by reason, whatever its rule.
  EXPECT_EQ(counters.ReadPackets(DecisionReason::kOwnedBucket), 3u);
}

TEST(DecisionNamesTest, UniqueAndStable) {
  std::set<std::string_view> names;
  for (int r = 0; r < static_cast<int>(DecisionReason::kCount); ++r) {
    const std::string_view name = DecisionReasonName(static_cast<DecisionReason>(r));
    EXPECT_NE(name, "unknown") << r;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(DecisionReason::kCount));
  EXPECT_EQ(DecisionReasonName(DecisionReason::kOwnedBucket), "owned_bucket");
  EXPECT_EQ(DecisionReasonName(DecisionReason::kNotForVip), "not_for_vip");
  EXPECT_EQ(DecisionReasonName(DecisionReason::kForeignVlan), "foreign_vlan");
  EXPECT_EQ(VerdictName(Verdict::kAccept), "accept");
  EXPECT_EQ(VerdictName(Verdict::kDrop), "drop");
  EXPECT_EQ(VerdictName(Verdict::kNeighbour), "neighbour");
}

}  // namespace
}  // namespace nlb
