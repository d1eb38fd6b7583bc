// Recorded traffic through the BPF data plane: every frame of tests/agent/data/lab_traffic.pcap
// (real traffic of an nlb-lab cluster: HTTP over IPv4 and IPv6, ARP and neighbour solicitations,
// ICMP, fragments, VLAN and QinQ tags, malformed frames, heartbeats; see data/README.md), read
// with libpcap, runs through the loaded program (BPF_PROG_TEST_RUN; the tc program and again the
// XDP one, which must also leave the expected frame) and through the reference on
// the same snapshot, in order: Decide() under the decision tables' rules and under rule sets of
// each affinity, DecideTracked() under a tracked rule whose buckets move while the flows run.
// Verdict, reason, parse verdict, rule, bucket and tc action must be equal for every frame.
// Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/bucket_set.h"
#include "tests/agent/bpf_tracked_test_support.h"
#include "tests/support/decision_table.h"
#include "tests/support/pcap_file.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

// The lab records with two hosts, and its VIPs are the decision tables' (data/README.md).
constexpr uint16_t kLabHosts = 2;

using Tally = std::array<int, static_cast<size_t>(DecisionReason::kCount)>;

std::string Describe(const Tally& tally) {
  std::string out;
  for (size_t r = 0; r < tally.size(); ++r) {
    if (tally[r] == 0) continue;
    out += " " + std::string(DecisionReasonName(static_cast<DecisionReason>(r))) + " " +
           std::to_string(tally[r]);
  }
  return out;
}

int Count(const Tally& tally, DecisionReason r) { return tally[static_cast<size_t>(r)]; }

// Owners striped over the lab's hosts, IPv6 keyed on /64 under affinity network.
RuleMap Striped(std::optional<IpAddress> vip, uint16_t first, uint16_t last, Protocol protocol,
                Affinity affinity) {
  RuleMap map = StripedRule(std::move(vip), first, last, protocol, FilteringMode::kMultipleHost,
                            affinity, kLabHosts);
  map.rule.ipv6_network_prefix = 64;
  return map;
}

// A lab-shaped rule set with one affinity throughout: the VIP's web port, a single-host DNS rule
// on the second VIP, and every other port and protocol of every VIP.
MapSnapshot RuleSet(Affinity affinity, uint16_t host) {
  MapSnapshot s;
  s.local_host_id = host;
  s.default_host_id = 1;
  s.serving = true;
  s.vips = {kVip, kVip2, kVip6};
  s.rules.push_back(Striped(kVip, 80, 80, Protocol::kTcp, affinity));
  RuleMap dns = StripedRule(kVip2, 53, 53, Protocol::kUdp, FilteringMode::kSingleHost, affinity);
  dns.single_owner = 2;
  s.rules.push_back(std::move(dns));
  s.rules.push_back(Striped(std::nullopt, 0, 65535, Protocol::kBoth, affinity));
  return s;
}

class BpfReplayTest : public test::TrackedFixture,
                      public ::testing::WithParamInterface<test::Hook> {
 protected:
  test::Hook TestHook() const override { return GetParam(); }
  void SetUp() override {
    TrackedFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Result<std::vector<std::vector<uint8_t>>> read =
        test::ReadPcapFrames(NLB_TEST_DATA_DIR "/lab_traffic.pcap");
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    frames_ = std::move(read).value();
    ASSERT_GT(frames_.size(), 200u);
  }

  // Every frame through Decide() and the kernel under s; the reasons Decide() gave.
  Tally Replay(const MapSnapshot& s, const std::string& what) {
    Tally tally{};
    Install(s);
    for (size_t i = 0; i < frames_.size(); ++i) {
      Decision want;
      EXPECT_TRUE(
          BpfPlaneFixture::Agrees(frames_[i], s, what + ", frame " + std::to_string(i + 1), &want));
      ++tally[static_cast<size_t>(want.reason)];
    }
    return tally;
  }

  std::vector<std::vector<uint8_t>> frames_;
};

TEST_P(BpfReplayTest, DecisionTableRules) {
  refused_ = 0;
  for (uint16_t host = 1; host <= kHosts; ++host) {
    const Tally tally =
        Replay(Snapshot(host), "decision table rules, host " + std::to_string(host));
    std::printf("decision table rules, host %u:%s\n", host, Describe(tally).c_str());
    EXPECT_GT(Count(tally, DecisionReason::kNeighbourRequest), 0);
    EXPECT_GT(Count(tally, DecisionReason::kForeignVlan), 0);
    EXPECT_GT(Count(tally, DecisionReason::kMalformed), 0);
  }
  std::printf("%zu frames per host, %d refused by BPF_PROG_TEST_RUN as too short\n", frames_.size(),
              refused_ / kHosts);
}

TEST_P(BpfReplayTest, RuleSetsOfEachAffinity) {
  for (const Affinity affinity : {Affinity::kNone, Affinity::kSingle, Affinity::kNetwork}) {
    Tally all{};
    for (uint16_t host = 1; host <= kLabHosts; ++host) {
      const std::string what =
          "affinity " + std::string(AffinityName(affinity)) + ", host " + std::to_string(host);
      const Tally tally = Replay(RuleSet(affinity, host), what);
      std::printf("%s:%s\n", what.c_str(), Describe(tally).c_str());
      for (size_t r = 0; r < all.size(); ++r) all[r] += tally[r];
    }
    // Both hosts own some of the traffic (the lab's clients come from eight /24s).
    EXPECT_GT(Count(all, DecisionReason::kOwnedBucket), 20);
    EXPECT_GT(Count(all, DecisionReason::kOtherHostsBucket), 20);
    EXPECT_GT(Count(all, DecisionReason::kSingleHostOwner), 0);
  }
}

// The affinity-none rule set as host `host` sees it while half of its rules' buckets move: the
// owners of A swapped, those buckets moving, a quarter of the gained ones pending.
MapSnapshot Moving(const MapSnapshot& a, uint64_t generation, uint32_t seed) {
  MapSnapshot b = a;
  b.generation = generation;
  std::mt19937 rng(seed);
  for (RuleMap& map : b.rules) {
    if (map.bucket_owner.empty()) continue;
    auto moving = std::make_shared<BucketSet>();
    auto pending = std::make_shared<BucketSet>();
    for (uint32_t bucket = 0; bucket < kBucketCount; ++bucket) {
      if (rng() % 2 != 0) continue;
      map.bucket_owner[bucket] = static_cast<uint16_t>(kLabHosts + 1 - map.bucket_owner[bucket]);
      moving->Add(bucket);
      if (map.bucket_owner[bucket] == a.local_host_id && rng() % 4 == 0) pending->Add(bucket);
    }
    map.moving = moving;
    map.pending = pending;
  }
  return b;
}

// In order, with the snapshot switching between settled and moving every few frames, so that
// flows opened under one are carried, held or refused under the other, on both sides alike.
TEST_P(BpfReplayTest, TrackedRuleWithMovingBuckets) {
  Tally all{};
  for (uint16_t host = 1; host <= kLabHosts; ++host) {
    Reset();
    MapSnapshot settled = RuleSet(Affinity::kNone, host);
    settled.generation = 1;
    const MapSnapshot moving = Moving(settled, 2, 20261207u + host);
    Tally tally{};
    for (size_t i = 0; i < frames_.size(); ++i) {
      const MapSnapshot& s = (i / 4) % 2 == 0 ? settled : moving;
      if (i % 4 == 0) Install(s);
      Decision want;
      EXPECT_TRUE(Agrees(
          frames_[i], s,
          "tracked, host " + std::to_string(host) + ", frame " + std::to_string(i + 1), &want));
      ++tally[static_cast<size_t>(want.reason)];
    }
    std::printf("tracked, moving every 4 frames, host %u:%s\n", host, Describe(tally).c_str());
    for (size_t r = 0; r < all.size(); ++r) all[r] += tally[r];
  }
  EXPECT_GT(Count(all, DecisionReason::kTrackedConnection), 0);
  EXPECT_GT(Count(all, DecisionReason::kMovingOthersConnection), 0);
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfReplayTest, ::testing::Values(test::Hook::kTc, test::Hook::kXdp),
                         test::HookParamName);

}  // namespace
}  // namespace nlb
