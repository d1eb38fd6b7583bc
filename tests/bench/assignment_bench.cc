// Cost of computing one rule's map (done on every convergence, per multiple-host rule) and of
// hashing one IPv4 client (done per packet). Run:
//   ./build/tests/bench/assignment_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "common/bucket_assignment.h"
#include "common/flow_hash.h"

namespace nlb {
namespace {

// range(0): host count; range(1): 0 for equal weights, 1 for random weights 1..100.
void BM_AssignBuckets(benchmark::State& state) {
  const auto hosts = static_cast<uint32_t>(state.range(0));
  const bool random_weights = state.range(1) != 0;
  std::mt19937 rng(hosts);
  std::uniform_int_distribution<uint32_t> weight(1, 100);
  std::vector<MemberWeight> members;
  for (uint32_t i = 1; i <= hosts; ++i) {
    members.push_back({static_cast<uint16_t>(i), random_weights ? weight(rng) : 50});
  }
  std::vector<uint16_t> owners(kBucketCount);
  for (auto _ : state) {
    AssignBuckets(members, kFlowHashSeed, owners);
    benchmark::DoNotOptimize(owners.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_AssignBuckets)
    ->ArgNames({"hosts", "random_weights"})
    ->ArgsProduct({{3, 64, 256}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

void BM_FlowHashIpv4(benchmark::State& state) {
  const auto affinity = static_cast<Affinity>(state.range(0));
  uint8_t raw[4] = {198, 18, 0, 1};
  uint16_t port = 1024;
  for (auto _ : state) {
    // Vary the key so the compiler cannot hoist the hash out of the loop.
    raw[3] = static_cast<uint8_t>(raw[3] + 1);
    ++port;
    const IpAddress source = IpAddress::V4(raw);
    benchmark::DoNotOptimize(BucketOfHash(FlowHash(source, true, port, affinity, 64)));
  }
}
BENCHMARK(BM_FlowHashIpv4)->ArgName("affinity")->DenseRange(0, 2);

}  // namespace
}  // namespace nlb

BENCHMARK_MAIN();
