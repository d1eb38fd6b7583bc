// BpfPlaneFixture: the loaded tc program (small flow maps, timeouts far beyond a test's run) for
// the tests that hold it to the reference through BPF_PROG_TEST_RUN (the agreement, replay, flow
// table and SYN flood tests), and the one comparison of a frame they all make: the kernel's
// decision and tc action against the reference's decision (Decide or DecideTracked). Only a
// missing privilege skips; as root, a program the verifier refuses fails every test. The plane
// is shared by the suites of one binary (each loads it in SetUpTestSuite, drops it after).
// Single-threaded test helpers; need root.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/bpf_plane.h"
#include "common/decision.h"
#include "tests/agent/bpf_test_run.h"

namespace nlb::test {

class BpfPlaneFixture : public ::testing::Test {
 protected:
  static constexpr uint32_t kFlowCapacity = 65536;
  static constexpr uint32_t kHalfOpenCapacity = 8192;

  static agent::BpfPlane::LoadOptions SmallMaps() {
    agent::BpfPlane::LoadOptions options;
    options.flow_capacity = kFlowCapacity;
    options.half_open_capacity = kHalfOpenCapacity;
    return options;
  }
  // Expiry is tested with simulated time in bpf_flow_table_test; here nothing expires.
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
    } else {
      why_not_ = loaded.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete plane_;
    plane_ = nullptr;
  }
  void SetUp() override {
    if (plane_ == nullptr && geteuid() != 0) GTEST_SKIP() << "needs root: " << why_not_;
    ASSERT_NE(plane_, nullptr) << "cannot load the BPF program: " << why_not_;
  }

  static void Install(const MapSnapshot& s,
                      std::chrono::nanoseconds lease = std::chrono::hours(1)) {
    ASSERT_TRUE(plane_->Publish(s).ok());
    ASSERT_TRUE(plane_->RenewLease(lease).ok());
  }

  static KernelDecision Run(const std::vector<uint8_t>& frame, uint32_t repeat = 1,
                            uint32_t* duration_ns = nullptr) {
    return RunProgram(plane_->program_fd(), frame, repeat, duration_ns);
  }

  // Runs frame through the kernel and compares with the reference's decision `want` on `packet`
  // under s; false (with a failure naming `what` and the frame) when they differ. A frame that
  // BPF_PROG_TEST_RUN itself refuses (too short for the IP header its ethertype names) is
  // counted in refused_ and agrees; nothing longer may be refused.
  static bool KernelAgrees(const std::vector<uint8_t>& frame, const Decision& want,
                           const ParsedPacket& packet, const MapSnapshot& s,
                           const std::string& what) {
    const KernelDecision got = Run(frame);
    if (got.action == -EINVAL && frame.size() < HarnessMinimum(frame)) {
      ++refused_;
      return true;
    }
    const int action = ExpectedAction(want, packet, s);
    if (SameDecision(got, want, action)) return true;
    ADD_FAILURE() << what << ": " << DescribeDifference(got, want, action, frame);
    return false;
  }

  // The same against Decide(); *reference receives its decision.
  static bool Agrees(const std::vector<uint8_t>& frame, const MapSnapshot& s,
                     const std::string& what, Decision* reference = nullptr) {
    ParsedPacket packet;
    const Decision want = Decide(frame, s, &packet);
    if (reference != nullptr) *reference = want;
    return KernelAgrees(frame, want, packet, s, what);
  }

  static inline agent::BpfPlane* plane_ = nullptr;
  static inline std::string why_not_;
  static inline int refused_ = 0;
};

}  // namespace nlb::test
