// Shared by the kernel connection table's tests (bpf_tracked_agreement_test.cc,
// bpf_tracked_random_test.cc, bpf_syn_flood_test.cc, bpf_flow_table_test.cc, bpf_replay_test.cc):
// bucket states on the decision table's cluster, TCP frames with chosen flags, and a fixture whose
// loaded program (BpfPlaneFixture, either hook) is compared packet by packet with DecideTracked.
// Single-threaded test helpers; need root.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/bpf_flow_table.h"
#include "common/bucket_set.h"
#include "common/descriptor_table.h"
#include "common/tracked_decision.h"
#include "tests/agent/bpf_plane_fixture.h"
#include "tests/support/decision_table.h"
#include "tests/support/packet_builder.h"

namespace nlb::test {

// The TCP flags of the frames the tracked tests send.
namespace tcp_flags {
inline constexpr uint8_t kSyn = kTcpSyn;
inline constexpr uint8_t kAck = kTcpAck;
inline constexpr uint8_t kData = kTcpAck | 0x08;  // PSH
inline constexpr uint8_t kFin = kTcpFin | kTcpAck;
inline constexpr uint8_t kRst = kTcpRst;
inline constexpr uint8_t kSynAck = kTcpSyn | kTcpAck;
}  // namespace tcp_flags

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

// The plane (BpfPlaneFixture) with the BpfFlowTable over it, and a fresh DescriptorTable per
// test: the reference the kernel's connection table must agree with. Each hook's plane has its
// own flow table; flows_ is the current test's.
class TrackedFixture : public BpfPlaneFixture {
 protected:
  static void SetUpTestSuite() {
    BpfPlaneFixture::SetUpTestSuite();
    MakeFlowTable();
  }
  // For fixtures that load with other options: Load(options), then this (the tc plane's).
  static void MakeFlowTable() {
    if (plane_ != nullptr)
      flows_by_hook_[static_cast<size_t>(plane_->hook())] = new agent::BpfFlowTable(*plane_);
    flows_ = flows_by_hook_[0];
  }
  static void TearDownTestSuite() {
    for (agent::BpfFlowTable*& flows : flows_by_hook_) {
      delete flows;
      flows = nullptr;
    }
    flows_ = nullptr;
    BpfPlaneFixture::TearDownTestSuite();
  }
  void SetUp() override {
    BpfPlaneFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    agent::BpfFlowTable*& flows = flows_by_hook_[static_cast<size_t>(plane_->hook())];
    if (flows == nullptr) flows = new agent::BpfFlowTable(*plane_);
    flows_ = flows;
    Reset();
  }
  // Nothing tracked on either side.
  void Reset() {
    ASSERT_TRUE(flows_->Clear().ok());
    table_ = std::make_unique<DescriptorTable>(DescriptorTableOptions{.capacity = kFlowCapacity},
                                               std::chrono::steady_clock::now());
  }

  // Runs frame through the kernel and DecideTracked; false (with a failure) when they differ.
  // *reference receives DecideTracked's decision.
  bool Agrees(const std::vector<uint8_t>& frame, const MapSnapshot& s, const std::string& what,
              Decision* reference = nullptr) {
    ParsedPacket packet;
    const Decision want =
        DecideTracked(frame, s, *table_, std::chrono::steady_clock::now(), &packet);
    if (reference != nullptr) *reference = want;
    return KernelAgrees(frame, want, packet, s, what);
  }

  static inline agent::BpfFlowTable* flows_ = nullptr;  // the current test's hook's
  static inline std::array<agent::BpfFlowTable*, 2> flows_by_hook_{};
  std::unique_ptr<DescriptorTable> table_;
};

}  // namespace nlb::test
