// The fixture of the BpfFlowTable tests (bpf_flow_table_test.cc, bpf_flow_table_renumber_test.cc):
// the loaded program with the configuration's default timeouts, flows opened through the kernel
// and the reference DescriptorTable alike, and the comparison of their counts. Single-threaded
// test helpers; need root.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "tests/agent/bpf_tracked_test_support.h"

namespace nlb::test {

inline constexpr uint64_t kSecond = 1000000000;

inline uint64_t MonotonicNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // bpf_ktime_get_ns()'s clock
  return static_cast<uint64_t>(now.tv_sec) * kSecond + static_cast<uint64_t>(now.tv_nsec);
}

struct OpenedFlow {
  int16_t rule;
  IpAddress client, vip;
  uint16_t port, vip_port;
  int stage;  // 0: SYN only, 1: established, 2: closing
};

class BpfFlowTableTest : public TrackedFixture {
 protected:
  // The configuration's default timeouts (idle 900 s, close 10 s, half-open 60 s).
  static void SetUpTestSuite() {
    Load(SmallMaps());
    MakeFlowTable();
  }

  // count flows of the web, TLS, range and IPv6 rules through the kernel and the reference: each
  // a SYN; two in three then their ACK, and one in four of those a FIN.
  std::vector<OpenedFlow> OpenFlows(const MapSnapshot& s, int count) {
    using namespace decision_table;  // NOLINT(google-build-using-namespace)
    std::mt19937 rng(11);
    const std::array<OpenedFlow, 4> kinds = {{{kWebNone, kClient, kVip, 0, 80, 0},
                                              {kTlsSingle, kClient, kVip, 0, 443, 0},
                                              {kRangeNetwork, kClient, kVip, 0, 1500, 0},
                                              {kV6Network, kClient6, kVip6, 0, 443, 0}}};
    std::vector<OpenedFlow> flows;
    for (int i = 0; i < count; ++i) {
      OpenedFlow f = kinds[static_cast<size_t>(i) % kinds.size()];
      const uint32_t host = rng() % 250;
      f.client = f.vip.is_v6() ? Ip("2001:2::5:" + std::to_string(host + 1))
                               : Ip("198.18.5." + std::to_string(host + 1));
      f.port = static_cast<uint16_t>(10000 + i);
      const auto send = [&](uint8_t flags) {
        EXPECT_TRUE(Agrees(TcpFrame(f.client, f.vip, f.port, f.vip_port, flags), s, "open"));
      };
      send(kTcpSyn);
      if (rng() % 3 != 0) {
        send(kTcpAck);
        f.stage = 1;
        if (rng() % 4 == 0) {
          send(kTcpFin | kTcpAck);
          f.stage = 2;
        }
      }
      flows.push_back(f);
    }
    return flows;
  }

  // The kernel's counts (last sweep) equal the reference table's, bucket by bucket.
  void ExpectSameCounts(const std::string& when) {
    int differences = 0;
    for (uint32_t r = 0; r < NLB_MAX_RULES; ++r) {
      EXPECT_EQ(flows_->RuleConnections(r), table_->RuleConnections(r)) << when << " rule " << r;
      if (table_->RuleConnections(r) == 0 && flows_->RuleConnections(r) == 0) continue;
      for (uint32_t b = 0; b < kBucketCount; ++b) {
        differences += flows_->Connections(r, b) != table_->Connections(r, b);
      }
    }
    EXPECT_EQ(differences, 0) << when;
  }

  agent::BpfFlowCounters Counters() {
    const Result<agent::BpfFlowCounters> c = flows_->ReadCounters();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c.value() : agent::BpfFlowCounters{};
  }

  uint64_t Sweep(uint64_t now_ns, agent::BpfSweepOptions options = {}) {
    options.now_ns = now_ns;
    const Result<agent::BpfSweepResult> r = flows_->Sweep(options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->removed : 0;
  }
};

}  // namespace nlb::test
