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
#include "tests/support/packet_builder.h"

namespace nlb {

void PrintTo(Verdict v, std::ostream* os) { *os << VerdictName(v); }
void PrintTo(DecisionReason r, std::ostream* os) { *os << DecisionReasonName(r); }

namespace {

using test::Ip;
using test::PacketBuilder;

const IpAddress kVip = Ip("198.18.0.100");
const IpAddress kVip2 = Ip("198.18.0.101");
const IpAddress kVip6 = Ip("2001:2::100");
const IpAddress kNotVip = Ip("198.18.0.7");
const IpAddress kClient = Ip("198.18.1.10");
const IpAddress kClient6 = Ip("2001:2:0:1::10");

constexpr uint16_t kHosts = 3;
constexpr uint16_t kDefaultHost = 1;
constexpr uint16_t kSingleOwner = 2;
constexpr uint16_t kAllRuleOwner = 3;

// Rule indexes in the snapshot below (VIP-specific rules first, as the snapshot promises).
enum RuleIndex : int16_t {
  kWebNone = 0,       // kVip 80/tcp, multiple, affinity none
  kTlsSingle,         // kVip 443/tcp, multiple, affinity single
  kRangeNetwork,      // kVip 1000-1999/both, multiple, affinity network
  kMailSingleHost,    // kVip 25/tcp, single host (owner kSingleOwner)
  kTelnetDisabled,    // kVip 23/tcp, disabled by mode
  kAltOff,            // kVip 8080/tcp, multiple but disabled at run time
  kV6Network,         // kVip6 443/tcp, multiple, network /48
  kAllWebSingleHost,  // all 80/tcp, single host (owner kAllRuleOwner)
  kAllDnsNone,        // all 53/udp, multiple, affinity none
};

RuleMap MakeRule(std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol protocol,
                 FilteringMode mode, Affinity affinity) {
  RuleMap map;
  map.rule.name = "rule" + std::to_string(first);
  map.rule.vip = vip;
  map.rule.first_port = first;
  map.rule.last_port = last;
  map.rule.protocol = protocol;
  map.rule.mode = mode;
  map.rule.affinity = affinity;
  if (mode == FilteringMode::kMultipleHost) {
    // Owners in stripes, so that neighbouring buckets belong to different hosts.
    map.bucket_owner.resize(kBucketCount);
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      map.bucket_owner[b] = static_cast<uint16_t>((b / 7 + first) % kHosts + 1);
    }
  }
  return map;
}

MapSnapshot Snapshot(uint16_t local_host_id) {
  MapSnapshot s;
  s.local_host_id = local_host_id;
  s.default_host_id = kDefaultHost;
  s.serving = true;
  s.vips = {kVip, kVip2, kVip6};
  using enum FilteringMode;
  s.rules.push_back(MakeRule(kVip, 80, 80, Protocol::kTcp, kMultipleHost, Affinity::kNone));
  s.rules.push_back(MakeRule(kVip, 443, 443, Protocol::kTcp, kMultipleHost, Affinity::kSingle));
  s.rules.push_back(MakeRule(kVip, 1000, 1999, Protocol::kBoth, kMultipleHost, Affinity::kNetwork));
  s.rules.push_back(MakeRule(kVip, 25, 25, Protocol::kTcp, kSingleHost, Affinity::kSingle));
  s.rules.back().single_owner = kSingleOwner;
  s.rules.push_back(MakeRule(kVip, 23, 23, Protocol::kTcp, kDisabled, Affinity::kSingle));
  s.rules.push_back(MakeRule(kVip, 8080, 8080, Protocol::kTcp, kMultipleHost, Affinity::kSingle));
  s.rules.back().enabled = false;
  s.rules.push_back(MakeRule(kVip6, 443, 443, Protocol::kTcp, kMultipleHost, Affinity::kNetwork));
  s.rules.back().rule.ipv6_network_prefix = 48;
  s.rules.push_back(MakeRule(std::nullopt, 80, 80, Protocol::kTcp, kSingleHost, Affinity::kSingle));
  s.rules.back().single_owner = kAllRuleOwner;
  s.rules.push_back(MakeRule(std::nullopt, 53, 53, Protocol::kUdp, kMultipleHost, Affinity::kNone));
  return s;
}

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

struct Outcome {
  Verdict verdict;
  DecisionReason reason;
};
constexpr Outcome kOwned{Verdict::kAccept, DecisionReason::kOwnedBucket};
constexpr Outcome kOthersBucket{Verdict::kDrop, DecisionReason::kOtherHostsBucket};

// Who should accept: a fixed host, nobody (kNoHost), or the owner of the bucket of `key`.
struct BucketKey {
  IpAddress source;
  bool has_port = false;
  uint16_t port = 0;
  Affinity affinity = Affinity::kSingle;
  uint8_t ipv6_prefix = kDefaultIpv6NetworkPrefix;
};

struct Case {
  std::string description;
  std::vector<uint8_t> frame;
  int16_t rule_index;
  uint16_t owner;  // gets on_owner; the rest get on_others. Ignored when key is set.
  Outcome on_owner;
  Outcome on_others;
  std::optional<BucketKey> key = std::nullopt;
  ParseVerdict parse = ParseVerdict::kOk;
};

std::vector<uint8_t> Tcp(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                         uint16_t dst_port) {
  PacketBuilder b;
  if (src.is_v4()) {
    b.Ipv4(src, dst);
  } else {
    b.Ipv6(src, dst);
  }
  return b.Tcp(src_port, dst_port, kTcpAck).Payload(20).Build();
}

std::vector<uint8_t> Udp(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                         uint16_t dst_port) {
  return PacketBuilder().Ipv4(src, dst).Udp(src_port, dst_port).Payload(20).Build();
}

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

constexpr Outcome kAcceptDefault{Verdict::kAccept, DecisionReason::kDefaultHost};
constexpr Outcome kDropOtherDefault{Verdict::kDrop, DecisionReason::kOtherDefaultHost};
constexpr Outcome kAcceptSingle{Verdict::kAccept, DecisionReason::kSingleHostOwner};
constexpr Outcome kDropOtherSingle{Verdict::kDrop, DecisionReason::kOtherSingleHost};
constexpr Outcome kDropDisabled{Verdict::kDrop, DecisionReason::kRuleDisabled};
constexpr Outcome kDropNotForVip{Verdict::kDrop, DecisionReason::kNotForVip};
constexpr Outcome kDropMalformed{Verdict::kDrop, DecisionReason::kMalformed};
constexpr Outcome kNeighbour{Verdict::kNeighbour, DecisionReason::kNeighbourRequest};

TEST(DecideTest, Table) {
  const IpAddress solicited = test::SolicitedNodeMulticast(kVip6);
  const std::vector<Case> cases = {
      // Multiple-host rules: the bucket of the affinity's key decides.
      {"affinity none keys on address and port",
       Tcp(kClient, kVip, 40000, 80),
       kWebNone,
       0,
       {},
       {},
       BucketKey{kClient, true, 40000, Affinity::kNone}},
      {"affinity single keys on the address",
       Tcp(kClient, kVip, 40000, 443),
       kTlsSingle,
       0,
       {},
       {},
       BucketKey{kClient, true, 40000, Affinity::kSingle}},
      {"affinity network keys on the /24",
       Udp(kClient, kVip, 5000, 1500),
       kRangeNetwork,
       0,
       {},
       {},
       BucketKey{Ip("198.18.1.0"), false, 0, Affinity::kSingle}},
      {"IPv6 affinity network keys on the rule's prefix",
       Tcp(kClient6, kVip6, 1234, 443),
       kV6Network,
       0,
       {},
       {},
       BucketKey{kClient6, false, 0, Affinity::kNetwork, 48}},
      {"IPv6 network key equals the masked address",
       Tcp(kClient6, kVip6, 1234, 443),
       kV6Network,
       0,
       {},
       {},
       BucketKey{Ip("2001:2::"), false, 0, Affinity::kSingle}},
      {"VLAN-tagged frame decides like an untagged one",
       PacketBuilder().Vlan(10).Ipv4(kClient, kVip).Tcp(40000, 443).Build(),
       kTlsSingle,
       0,
       {},
       {},
       BucketKey{kClient, false, 0, Affinity::kSingle}},
      {"all rule, multiple host, other VIP",
       Udp(kClient, kVip2, 3333, 53),
       kAllDnsNone,
       0,
       {},
       {},
       BucketKey{kClient, true, 3333, Affinity::kNone}},
      // Other filtering modes.
      {"single-host rule: the best-priority host", Tcp(kClient, kVip, 1, 25), kMailSingleHost,
       kSingleOwner, kAcceptSingle, kDropOtherSingle},
      {"disabled rule drops everywhere",
       Tcp(kClient, kVip, 1, 23),
       kTelnetDisabled,
       kNoHost,
       {},
       kDropDisabled},
      {"rule disabled at run time drops everywhere",
       Tcp(kClient, kVip, 1, 8080),
       kAltOff,
       kNoHost,
       {},
       kDropDisabled},
      // Precedence.
      {"VIP-specific rule beats the all rule",
       Tcp(kClient, kVip, 40000, 80),
       kWebNone,
       0,
       {},
       {},
       BucketKey{kClient, true, 40000, Affinity::kNone}},
      {"all rule for a VIP without its own rule", Tcp(kClient, kVip2, 40000, 80), kAllWebSingleHost,
       kAllRuleOwner, kAcceptSingle, kDropOtherSingle},
      // Traffic no rule covers goes to the default host.
      {"uncovered TCP port", Tcp(kClient, kVip, 1, 9999), -1, kDefaultHost, kAcceptDefault,
       kDropOtherDefault},
      {"uncovered UDP port", Udp(kClient, kVip, 1, 443), -1, kDefaultHost, kAcceptDefault,
       kDropOtherDefault},
      {"ICMP echo", PacketBuilder().Ipv4(kClient, kVip).IcmpEcho().Build(), -1, kDefaultHost,
       kAcceptDefault, kDropOtherDefault},
      {"ICMPv6 echo", PacketBuilder().Ipv6(kClient6, kVip6).Icmpv6Echo().Build(), -1, kDefaultHost,
       kAcceptDefault, kDropOtherDefault},
      {"GRE", PacketBuilder().Ipv4(kClient, kVip).Protocol(47).Payload(8).Build(), -1, kDefaultHost,
       kAcceptDefault, kDropOtherDefault},
      // Neighbour discovery.
      {"ARP request for a VIP",
       PacketBuilder().ArpRequest(kClient, kVip).Build(),
       -1,
       kNoHost,
       {},
       kNeighbour},
      {"ARP request for another address",
       PacketBuilder().ArpRequest(kClient, kNotVip).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"ARP reply about a VIP is not ours to answer",
       PacketBuilder().ArpReply(kClient, kVip).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"neighbour solicitation for a VIP",
       PacketBuilder().Ipv6(kClient6, solicited).NeighbourSolicitation(kVip6).Build(),
       -1,
       kNoHost,
       {},
       kNeighbour},
      {"neighbour solicitation for another address",
       PacketBuilder().Ipv6(kClient6, solicited).NeighbourSolicitation(Ip("2001:2::7")).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      // Not ours.
      {"TCP to an address that is not a VIP",
       Tcp(kClient, kNotVip, 1, 80),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"IPv6 to an address that is not a VIP",
       Tcp(kClient6, Ip("2001:2::7"), 1, 443),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"LLDP is not for a VIP",
       PacketBuilder().RawEthertype(0x88cc).Payload(40).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip,
       std::nullopt,
       ParseVerdict::kUnsupportedEthertype},
      // Malformed.
      {"truncated TCP",
       test::Truncated(Tcp(kClient, kVip, 1, 80), 14 + 20 + 10),
       -1,
       kNoHost,
       {},
       kDropMalformed,
       std::nullopt,
       ParseVerdict::kBadIpv4TotalLength},
      {"TCP data offset 2",
       test::WithByte(Tcp(kClient, kVip, 1, 80), 14 + 20 + 12, 0x20),
       -1,
       kNoHost,
       {},
       kDropMalformed,
       std::nullopt,
       ParseVerdict::kBadTcpHeaderLength},
      {"runt frame",
       std::vector<uint8_t>(10, 0xff),
       -1,
       kNoHost,
       {},
       kDropMalformed,
       std::nullopt,
       ParseVerdict::kTruncatedEthernet},
  };
  RunTable(cases);
}

// Fragments: every piece of a datagram is matched by (VIP, protocol) and keyed on addresses.
TEST(DecideTest, FragmentTable) {
  const auto first = [](const IpAddress& src, const IpAddress& dst, uint16_t dst_port) {
    PacketBuilder b;
    if (src.is_v4()) {
      b.Ipv4(src, dst);
    } else {
      b.Ipv6(src, dst);
    }
    return b.Fragment(0, true).Udp(40000, dst_port).Payload(64).Build();
  };
  const auto later = [](const IpAddress& src, const IpAddress& dst, uint8_t protocol, bool last) {
    PacketBuilder b;
    if (src.is_v4()) {
      b.Ipv4(src, dst);
    } else {
      b.Ipv6(src, dst);
    }
    return b.Fragment(last ? 1488 : 72, !last).Protocol(protocol).Payload(64).Build();
  };
  // The all/53 rule has affinity none, but the ports are in the first piece only.
  const BucketKey dns_key{kClient, false, 0, Affinity::kSingle};
  const BucketKey range_key{Ip("198.18.1.0"), false, 0, Affinity::kSingle};
  const std::vector<Case> cases = {
      {"UDP first fragment to the all/53 rule",
       first(kClient, kVip2, 53),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP middle fragment to the all/53 rule",
       later(kClient, kVip2, kIpProtoUdp, false),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP last fragment to the all/53 rule",
       later(kClient, kVip2, kIpProtoUdp, true),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP first fragment to a port outside the rule still takes the (VIP, udp) rule",
       first(kClient, kVip2, 9999),
       kAllDnsNone,
       0,
       {},
       {},
       dns_key},
      {"UDP fragment to kVip: the only specific udp rule, network affinity kept",
       later(kClient, kVip, kIpProtoUdp, false),
       kRangeNetwork,
       0,
       {},
       {},
       range_key},
      {"TCP fragment to kVip: lowest first port among specific rules is the disabled 23",
       later(kClient, kVip, kIpProtoTcp, false),
       kTelnetDisabled,
       kNoHost,
       {},
       kDropDisabled},
      {"TCP fragment to kVip2: the all/80 single-host rule",
       later(kClient, kVip2, kIpProtoTcp, true), kAllWebSingleHost, kAllRuleOwner, kAcceptSingle,
       kDropOtherSingle},
      {"IPv6 TCP middle fragment: network /48",
       later(kClient6, kVip6, kIpProtoTcp, false),
       kV6Network,
       0,
       {},
       {},
       BucketKey{kClient6, false, 0, Affinity::kNetwork, 48}},
      {"ICMP fragment: no rule, default host", later(kClient, kVip, kIpProtoIcmp, true), -1,
       kDefaultHost, kAcceptDefault, kDropOtherDefault},
  };
  RunTable(cases);
}

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
    if (rng() % 10 == 0) builder.Vlan(static_cast<uint16_t>(rng() % 4096));
    const std::vector<uint8_t> frame = builder.Build();
    const std::vector<Decision> decisions = cluster.DecideAll(frame);
    int accepts = 0;
    for (size_t h = 0; h < decisions.size(); ++h) {
      if (decisions[h].verdict == Verdict::kAccept) {
        ++accepts;
        ++accepted_by[h + 1];
      }
    }
    if (decisions[0].reason == DecisionReason::kRuleDisabled) {
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
  EXPECT_EQ(VerdictName(Verdict::kAccept), "accept");
  EXPECT_EQ(VerdictName(Verdict::kDrop), "drop");
  EXPECT_EQ(VerdictName(Verdict::kNeighbour), "neighbour");
}

}  // namespace
}  // namespace nlb
