// BpfFlowTable through a reload that renumbers the rules (Renumber, Publish, FinishRenumber), and
// what a sweep costs and what the flow maps take in the kernel (printed for
// docs/bpf-data-plane.md). Needs root; skips otherwise.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "tests/agent/bpf_flow_table_fixture.h"

namespace nlb {
namespace {

using namespace test::decision_table;  // NOLINT(google-build-using-namespace)
using test::BpfFlowTableTest;
using test::BucketState;
using test::MonotonicNs;
using test::OpenedFlow;
using test::RunProgram;
using test::TcpFrame;

// A reload moves the web rule from index 0 to 1 and removes the TLS rule (a new rule takes index
// 0): between Renumber and FinishRenumber a packet decided by either numbering finds its flow;
// after it only the new numbering does, the TLS flows are gone, and the counts follow.
TEST_F(BpfFlowTableTest, RenumberFollowsTheRulesByName) {
  const MapSnapshot before = Snapshot(test::kTrackedLocal);
  Install(before);
  const std::vector<OpenedFlow> flows = OpenFlows(before, 400);
  const uint64_t web = table_->RuleConnections(kWebNone);
  const uint64_t tls = table_->RuleConnections(kTlsSingle);
  ASSERT_GT(web, 0u);
  ASSERT_GT(tls, 0u);
  const OpenedFlow* established = nullptr;
  for (const OpenedFlow& f : flows) {
    ParsedPacket p;
    const std::vector<uint8_t> frame = TcpFrame(f.client, f.vip, f.port, f.vip_port, kTcpAck);
    if (f.rule == kWebNone && f.stage == 1 &&
        Decide(frame, before, &p).verdict == Verdict::kAccept) {
      established = &f;
      break;
    }
  }
  ASSERT_NE(established, nullptr);
  const std::vector<uint8_t> data = TcpFrame(established->client, established->vip,
                                             established->port, established->vip_port, 0x18);
  ParsedPacket p;
  const uint32_t bucket = Decide(data, before, &p).bucket;

  // Old numbering, the flow's bucket moving away; new numbering: TLS's slot is a new rule.
  MapSnapshot old_moving = before;
  old_moving.generation = 2;
  test::SetState(old_moving.rules[kWebNone], bucket, BucketState::kOthersMoving);
  MapSnapshot renumbered = old_moving;
  renumbered.generation = 3;
  std::swap(renumbered.rules[0], renumbered.rules[1]);
  const auto decided_by = [&](const MapSnapshot& s) {
    Install(s);
    return RunProgram(plane_->program_fd(), data).decision.reason;
  };
  EXPECT_EQ(decided_by(old_moving), DecisionReason::kTrackedConnection);
  EXPECT_EQ(decided_by(renumbered), DecisionReason::kOtherHostsBucket) << "not renumbered yet";

  std::array<uint8_t, NLB_MAX_RULES> old_to_new;
  for (size_t r = 0; r < old_to_new.size(); ++r) old_to_new[r] = static_cast<uint8_t>(r);
  old_to_new[kWebNone] = 1;
  old_to_new[kTlsSingle] = 0xff;
  ASSERT_TRUE(flows_->Renumber(old_to_new).ok());
  EXPECT_EQ(decided_by(old_moving), DecisionReason::kTrackedConnection);
  EXPECT_EQ(decided_by(renumbered), DecisionReason::kTrackedConnection);
  ASSERT_TRUE(flows_->FinishRenumber().ok());
  // The totals follow the rules at once (what `report` shows per rule), before any Sweep.
  EXPECT_EQ(flows_->RuleConnections(1), web);
  EXPECT_EQ(flows_->RuleConnections(0), 0u) << "the removed TLS rule's total stayed";
  EXPECT_EQ(decided_by(renumbered), DecisionReason::kTrackedConnection);
  EXPECT_EQ(decided_by(old_moving), DecisionReason::kOtherHostsBucket) << "old keys left";

  Sweep(MonotonicNs());
  EXPECT_EQ(flows_->RuleConnections(1), web);
  EXPECT_EQ(flows_->RuleConnections(0), 0u);
  EXPECT_EQ(Counters().renumber_removed, tls);
  EXPECT_EQ(Counters().evicted_flows, 0u);
  EXPECT_EQ(Counters().evicted_half_open, 0u);
}

// memlock of a map as the kernel accounts it (/proc/self/fdinfo).
uint64_t Memlock(int fd) {
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
  std::string key;
  uint64_t value = 0;
  while (info >> key) {
    if (key == "memlock:" && info >> value) return value;
  }
  return 0;
}

TEST_F(BpfFlowTableTest, Measurements) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint32_t kEntries = 10000;
#else
  constexpr uint32_t kEntries = 50000;
#endif
  std::printf(
      "flow maps: nlb_flows %u entries %llu bytes (%.0f per entry), nlb_half_open %u "
      "entries %llu bytes (%.0f per entry)\n",
      kFlowCapacity, static_cast<unsigned long long>(Memlock(plane_->flows_fd())),
      static_cast<double>(Memlock(plane_->flows_fd())) / kFlowCapacity, kHalfOpenCapacity,
      static_cast<unsigned long long>(Memlock(plane_->half_open_fd())),
      static_cast<double>(Memlock(plane_->half_open_fd())) / kHalfOpenCapacity);
  const uint64_t now = MonotonicNs();
  using Clock = std::chrono::steady_clock;
  Clock::time_point start = Clock::now();
  EXPECT_EQ(Sweep(now), 0u);
  std::printf("sweep of empty maps: %.2f ms\n",
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  for (uint32_t i = 0; i < kEntries; ++i) {
    nlb_flow_id id{};
    id.client[0] = 198;
    id.client[1] = 18;
    id.client[2] = static_cast<uint8_t>(i >> 8);
    id.client[3] = static_cast<uint8_t>(i);
    id.client_port = static_cast<uint16_t>(i >> 16);
    id.vip_port = 80;
    id.family = NLB_FAMILY_V4;
    const nlb_flow value{now, static_cast<uint16_t>(i % kBucketCount), NLB_FLOW_OPEN, {}};
    ASSERT_EQ(bpf_map_update_elem(plane_->flows_fd(), &id, &value, BPF_ANY), 0);
  }
  start = Clock::now();
  EXPECT_EQ(Sweep(now), 0u);
  const double keep_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  start = Clock::now();
  EXPECT_EQ(Sweep(now + 901 * test::kSecond), kEntries);
  const double remove_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  std::printf(
      "sweep of %u established flows: %.2f ms (%.0f ns per flow) all live, %.2f ms "
      "(%.0f ns per flow) all expired and deleted\n",
      kEntries, keep_ns / 1e6, keep_ns / kEntries, remove_ns / 1e6, remove_ns / kEntries);
}

}  // namespace
}  // namespace nlb
