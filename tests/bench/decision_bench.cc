// Decide over a realistic mix of pre-built frames, against a 3-host snapshot with several rules.
// The goal is <= 50 ns per frame for the whole decision (parse + match + hash + owner).
//
//   ./build/tests/bench/decision_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "common/decision.h"
#include "common/flow_hash.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using test::Ip;
using test::PacketBuilder;

RuleMap Rule(std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol protocol,
             FilteringMode mode, Affinity affinity) {
  RuleMap map;
  map.rule.vip = vip;
  map.rule.first_port = first;
  map.rule.last_port = last;
  map.rule.protocol = protocol;
  map.rule.mode = mode;
  map.rule.affinity = affinity;
  if (mode == FilteringMode::kMultipleHost) {
    map.bucket_owner.resize(kBucketCount);
    for (uint32_t b = 0; b < kBucketCount; ++b)
      map.bucket_owner[b] = static_cast<uint16_t>(b % 3 + 1);
  }
  map.single_owner = 2;
  return map;
}

MapSnapshot Snapshot() {
  MapSnapshot s;
  s.local_host_id = 1;
  s.default_host_id = 1;
  s.serving = true;
  s.vips = {Ip("198.18.0.100"), Ip("198.18.0.101"), Ip("2001:2::100")};
  using enum FilteringMode;
  s.rules.push_back(
      Rule(Ip("198.18.0.100"), 80, 80, Protocol::kTcp, kMultipleHost, Affinity::kNone));
  s.rules.push_back(
      Rule(Ip("198.18.0.100"), 443, 443, Protocol::kTcp, kMultipleHost, Affinity::kSingle));
  s.rules.push_back(
      Rule(Ip("198.18.0.100"), 25, 25, Protocol::kTcp, kSingleHost, Affinity::kSingle));
  s.rules.push_back(
      Rule(Ip("2001:2::100"), 443, 443, Protocol::kTcp, kMultipleHost, Affinity::kNetwork));
  s.rules.push_back(Rule(std::nullopt, 53, 53, Protocol::kUdp, kMultipleHost, Affinity::kNone));
  s.rules.push_back(
      Rule(std::nullopt, 0, 65535, Protocol::kBoth, kMultipleHost, Affinity::kSingle));
  return s;
}

// 4096 frames: ~70% IPv4 TCP to a VIP, 10% UDP, 10% IPv6 TCP, 7% not for a VIP, 3% ARP.
std::vector<std::vector<uint8_t>> Mix() {
  std::mt19937 rng(1);
  std::vector<std::vector<uint8_t>> frames;
  const IpAddress vips4[] = {Ip("198.18.0.100"), Ip("198.18.0.101")};
  const uint16_t tcp_ports[] = {80, 80, 80, 443, 443, 25, 8080};
  for (int i = 0; i < 4096; ++i) {
    uint8_t raw[4] = {198, 19, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())};
    const IpAddress client = IpAddress::V4(raw);
    const auto src_port = static_cast<uint16_t>(1024 + rng() % 60000);
    const unsigned pick = rng() % 100;
    PacketBuilder b;
    if (pick < 70) {
      b.Ipv4(client, vips4[rng() % 2]).Tcp(src_port, tcp_ports[rng() % 7], kTcpAck).Payload(64);
    } else if (pick < 80) {
      b.Ipv4(client, vips4[rng() % 2]).Udp(src_port, 53).Payload(40);
    } else if (pick < 90) {
      IpAddress client6 = Ip("2001:2:1::");
      for (int k = 6; k < 16; ++k) client6.bytes[k] = static_cast<uint8_t>(rng());
      b.Ipv6(client6, Ip("2001:2::100")).Tcp(src_port, 443, kTcpAck).Payload(64);
    } else if (pick < 97) {
      b.Ipv4(client, Ip("198.18.0.7")).Tcp(src_port, 22, kTcpAck).Payload(64);
    } else {
      b.ArpRequest(client, vips4[rng() % 2]).PadTo(60);
    }
    if (rng() % 20 == 0) b.Vlan(10);
    frames.push_back(b.Build());
  }
  return frames;
}

void BM_DecideMix(benchmark::State& state) {
  const MapSnapshot snapshot = Snapshot();
  const std::vector<std::vector<uint8_t>> frames = Mix();
  size_t i = 0;
  ParsedPacket packet;
  for (auto _ : state) {
    const Decision d = Decide(frames[i], snapshot, &packet);
    benchmark::DoNotOptimize(d);
    i = (i + 1) & (frames.size() - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecideMix);

void BM_ParseTcp4(benchmark::State& state) {
  const std::vector<uint8_t> frame = PacketBuilder()
                                         .Ipv4(Ip("198.19.1.1"), Ip("198.18.0.100"))
                                         .Tcp(40000, 80, kTcpAck)
                                         .Payload(64)
                                         .Build();
  ParsedPacket packet;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseFrame(frame, &packet));
    benchmark::DoNotOptimize(packet);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseTcp4);

}  // namespace
}  // namespace nlb

BENCHMARK_MAIN();
