// Connection tracking's costs: DescriptorTable operations at 1 million tracked flows, its memory
// per flow, and the per-packet decision with the table (DecideTracked) next to the plain Decide
// in the same run, on TCP traffic to a rule whose buckets this host owns (a third) or holds
// while they move.
//
//   ./build/tests/bench/descriptor_table_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "common/decision.h"
#include "common/descriptor_table.h"
#include "common/flow_hash.h"
#include "common/tracked_decision.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kFlows = 1 << 20;
const Clock::time_point kOrigin{std::chrono::hours(1)};

FlowKey Key(uint32_t n) {
  const uint8_t client[4] = {198, 19, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  const uint8_t vip[4] = {198, 18, 0, static_cast<uint8_t>(100 + (n >> 16) % 2)};
  return FlowKey{IpAddress::V4(client), IpAddress::V4(vip),
                 static_cast<uint16_t>(1024 + (n >> 17)), 80, 0};
}

DescriptorTable& FullTable() {
  static std::unique_ptr<DescriptorTable> table = [] {
    DescriptorTableOptions o;
    o.capacity = kFlows;
    o.seed = 1;
    auto t = std::make_unique<DescriptorTable>(o, kOrigin);
    for (uint32_t n = 0; n < kFlows; ++n) t->Open(Key(n), n % kBucketCount, kOrigin);
    return t;
  }();
  return *table;
}

void BM_TableFill(benchmark::State& state) {
  for (auto _ : state) {
    DescriptorTableOptions o;
    o.capacity = kFlows;
    DescriptorTable t(o, kOrigin);
    for (uint32_t n = 0; n < kFlows; ++n) t.Open(Key(n), n % kBucketCount, kOrigin);
    state.counters["table_full"] = static_cast<double>(t.counters().table_full.load());
    state.counters["bytes_per_flow"] = static_cast<double>(t.memory_bytes()) / kFlows;
    state.counters["entry_bytes"] = sizeof(DescriptorTable::Entry);
  }
  state.SetItemsProcessed(state.iterations() * kFlows);
}
BENCHMARK(BM_TableFill)->Unit(benchmark::kMillisecond);

void BM_TableTouchHit(benchmark::State& state) {
  DescriptorTable& t = FullTable();
  std::mt19937 rng(3);
  std::vector<FlowKey> keys;
  for (int i = 0; i < 4096; ++i) keys.push_back(Key(rng() % kFlows));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.Touch(keys[i++ & 4095], kTcpAck, kOrigin));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableTouchHit);

void BM_TableTouchMiss(benchmark::State& state) {
  DescriptorTable& t = FullTable();
  std::vector<FlowKey> keys;
  for (uint32_t i = 0; i < 4096; ++i) keys.push_back(Key(kFlows + i));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.Touch(keys[i++ & 4095], kTcpAck, kOrigin));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableTouchMiss);

// Open then Remove of a new flow in the full table (the SYN and the end of a short connection).
void BM_TableOpenRemove(benchmark::State& state) {
  DescriptorTable& t = FullTable();
  std::vector<FlowKey> keys;
  for (uint32_t i = 0; i < 4096; ++i) keys.push_back(Key(kFlows + i));
  size_t i = 0;
  for (auto _ : state) {
    const FlowKey& k = keys[i++ & 4095];
    t.Remove(Key(i % kFlows));
    benchmark::DoNotOptimize(t.Open(k, 5, kOrigin));
    t.Remove(k);
    t.Open(Key(i % kFlows), 7, kOrigin);
  }
  state.SetItemsProcessed(state.iterations() * 4);
}
BENCHMARK(BM_TableOpenRemove);

void BM_TableSweep(benchmark::State& state) {
  DescriptorTable& t = FullTable();
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.Sweep(kOrigin, 4096, [](uint32_t, uint32_t) { return true; }));
  }
  state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_TableSweep);

// The decision: 4096 TCP ACK frames of tracked flows to VIP:80 (affinity none); host 1 owns a
// third of the buckets, another third is moving away from it (it holds the flows there).
struct DecisionSetup {
  MapSnapshot snapshot;
  std::vector<std::vector<uint8_t>> frames;
  std::unique_ptr<DescriptorTable> table;
};

DecisionSetup& Setup() {
  static DecisionSetup s = [] {
    DecisionSetup d;
    d.snapshot.local_host_id = 1;
    d.snapshot.default_host_id = 1;
    d.snapshot.serving = true;
    d.snapshot.vips = {test::Ip("198.18.0.100")};
    RuleMap rule;
    rule.rule.vip = test::Ip("198.18.0.100");
    rule.rule.first_port = rule.rule.last_port = 80;
    rule.rule.protocol = Protocol::kTcp;
    rule.rule.affinity = Affinity::kNone;
    rule.bucket_owner.resize(kBucketCount);
    auto moving = std::make_shared<BucketSet>();
    for (uint32_t b = 0; b < kBucketCount; ++b) {
      rule.bucket_owner[b] = static_cast<uint16_t>(b % 3 + 1);
      if (b % 3 == 1) moving->Add(b);  // host 2's now, host 1 still serves its flows there
    }
    rule.moving = moving;
    d.snapshot.rules.push_back(rule);
    DescriptorTableOptions o;
    o.capacity = kFlows;
    d.table = std::make_unique<DescriptorTable>(o, kOrigin);
    std::mt19937 rng(5);
    for (int i = 0; i < 4096; ++i) {
      const uint8_t a[4] = {198, 19, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())};
      const IpAddress client = IpAddress::V4(a);
      const uint16_t port = static_cast<uint16_t>(1024 + rng() % 60000);
      const uint32_t bucket = BucketOfHash(FlowHash(client, true, port, Affinity::kNone, 64));
      d.table->Open({client, test::Ip("198.18.0.100"), port, 80, 0}, bucket, kOrigin);
      d.frames.push_back(test::PacketBuilder()
                             .Ipv4(client, test::Ip("198.18.0.100"))
                             .Tcp(port, 80, kTcpAck)
                             .Payload(0)
                             .Build());
    }
    // Fill the rest of the table to 1M flows so lookups hit a realistic memory footprint.
    for (uint32_t n = 0; d.table->size() < kFlows - 1 && n < 2 * kFlows; ++n) {
      d.table->Open(Key(n), n % kBucketCount, kOrigin);
    }
    return d;
  }();
  return s;
}

void BM_DecidePlain(benchmark::State& state) {
  DecisionSetup& s = Setup();
  ParsedPacket packet;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Decide(s.frames[i++ & 4095], s.snapshot, &packet));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecidePlain);

void BM_DecideTracked(benchmark::State& state) {
  DecisionSetup& s = Setup();
  ParsedPacket packet;
  size_t i = 0;
  uint64_t accepted = 0;
  for (auto _ : state) {
    const Decision d = DecideTracked(s.frames[i++ & 4095], s.snapshot, *s.table, kOrigin, &packet);
    accepted += d.verdict == Verdict::kAccept ? 1 : 0;
  }
  state.counters["accepted_share"] =
      static_cast<double>(accepted) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecideTracked);

}  // namespace
}  // namespace nlb

BENCHMARK_MAIN();
