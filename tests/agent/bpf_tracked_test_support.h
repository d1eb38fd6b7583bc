// Shared by the kernel connection table's tests (bpf_tracked_agreement_test.cc,
// bpf_flow_table_test.cc): a loaded program with small flow maps, bucket states on the decision
// table's cluster, TCP frames with chosen flags, and the comparison of one packet between the
// kernel and DecideTracked. Single-threaded test helpers; need root.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/bpf_flow_table.h"
#include "agent/bpf_plane.h"
#include "common/bucket_set.h"
#include "common/descriptor_table.h"
#include "common/tracked_decision.h"
#include "tests/agent/bpf_test_run.h"
#include "tests/support/decision_table.h"
#include "tests/support/packet_builder.h"

namespace nlb::test {

// What one bucket is, seen from host kTrackedLocal.
enum class BucketState : uint8_t { kOwned, kOwnedMoving, kOwnedPending, kOthersMoving, kOthers };
inline constexpr uint16_t kTrackedLocal = 1;

inline void SetState(RuleMap& map, uint32_t bucket, BucketState state) {
  const bool owned = state == BucketState::kOwned || state == BucketState::kOwnedMoving ||
                     state == BucketState::kOwnedPending;
  map.bucket_owner[bucket] = owned ? kTrackedLocal : 2;
  const auto add = [bucket](std::shared_ptr<const BucketSet>& set) {
    auto copy = set != nullptr ? std::make_shared<BucketSet>(*set) : std::make_shared<BucketSet>();
    copy->Add(bucket);
    set = std::move(copy);
  };
  if (state != BucketState::kOwned && state != BucketState::kOthers) add(map.moving);
  if (state == BucketState::kOwnedPending) add(map.pending);
}

// The decision table's cluster as host 1 sees it, with `bucket` of `rule` in `state`.
inline MapSnapshot StateSnapshot(int16_t rule, uint32_t bucket, BucketState state,
                                 uint64_t generation) {
  MapSnapshot s = decision_table::Snapshot(kTrackedLocal);
  s.generation = generation;
  SetState(s.rules[static_cast<size_t>(rule)], bucket, state);
  return s;
}

inline std::vector<uint8_t> TcpFrame(const IpAddress& client, const IpAddress& vip,
                                     uint16_t client_port, uint16_t vip_port, uint8_t flags) {
  PacketBuilder b;
  if (client.is_v4()) {
    b.Ipv4(client, vip);
  } else {
    b.Ipv6(client, vip);
  }
  return b.Tcp(client_port, vip_port, flags).Payload(10).Build();
}

// A loaded program with small flow maps and timeouts far beyond a test's run (expiry is tested
// with simulated time in bpf_flow_table_test), the BpfFlowTable over it, and a fresh
// DescriptorTable per test: the reference the kernel must agree with.
class TrackedFixture : public ::testing::Test {
 protected:
  static constexpr uint32_t kFlowCapacity = 65536;
  static constexpr uint32_t kHalfOpenCapacity = 8192;

  static agent::BpfPlane::LoadOptions SmallMaps() {
    agent::BpfPlane::LoadOptions options;
    options.flow_capacity = kFlowCapacity;
    options.half_open_capacity = kHalfOpenCapacity;
    return options;
  }
  static void SetUpTestSuite() {
    agent::BpfPlane::LoadOptions options = SmallMaps();
    options.close_delay = std::chrono::seconds(600);
    options.half_open_timeout = std::chrono::seconds(600);
    Load(options);
  }
  // For fixtures that need other options: call from their own SetUpTestSuite.
  static void Load(const agent::BpfPlane::LoadOptions& options) {
    Result<std::unique_ptr<agent::BpfPlane>> loaded = agent::BpfPlane::Load(options);
    if (loaded.ok()) {
      plane_ = std::move(loaded).value().release();
      flows_ = new agent::BpfFlowTable(*plane_);
    } else {
      why_not_ = loaded.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete flows_;
    delete plane_;
    flows_ = nullptr;
    plane_ = nullptr;
  }
  void SetUp() override {
    // Only a missing privilege skips: as root, a program the verifier refuses is a failure.
    if (plane_ == nullptr && geteuid() != 0) GTEST_SKIP() << "needs root: " << why_not_;
    ASSERT_NE(plane_, nullptr) << "cannot load the BPF program: " << why_not_;
    Reset();
  }
  // Nothing tracked on either side.
  void Reset() {
    ASSERT_TRUE(flows_->Clear().ok());
    table_ = std::make_unique<DescriptorTable>(DescriptorTableOptions{.capacity = kFlowCapacity},
                                               std::chrono::steady_clock::now());
  }

  static void Install(const MapSnapshot& s) {
    ASSERT_TRUE(plane_->Publish(s).ok());
    ASSERT_TRUE(plane_->RenewLease(std::chrono::hours(1)).ok());
  }

  // Runs frame through the kernel and DecideTracked; false (with a failure) when they differ.
  // *reference receives DecideTracked's decision.
  bool Agrees(const std::vector<uint8_t>& frame, const MapSnapshot& s, const std::string& what,
              Decision* reference = nullptr) {
    ParsedPacket packet;
    const Decision want =
        DecideTracked(frame, s, *table_, std::chrono::steady_clock::now(), &packet);
    if (reference != nullptr) *reference = want;
    const KernelDecision got = RunProgram(plane_->program_fd(), frame);
    const int action = ExpectedAction(want, packet, s);
    if (SameDecision(got, want, action)) return true;
    ADD_FAILURE() << what << ": " << DescribeDifference(got, want, action, frame);
    return false;
  }

  static inline agent::BpfPlane* plane_ = nullptr;
  static inline agent::BpfFlowTable* flows_ = nullptr;
  static inline std::string why_not_;
  std::unique_ptr<DescriptorTable> table_;
};

}  // namespace nlb::test
