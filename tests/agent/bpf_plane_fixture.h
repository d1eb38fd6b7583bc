// BpfPlaneFixture: the loaded program (small flow maps, timeouts far beyond a test's run) for the
// tests that hold it to the reference through BPF_PROG_TEST_RUN (the agreement, replay, flow
// table and SYN flood tests), on the tc hook or the XDP one (a fixture that overrides TestHook(),
// usually with its parameter), and the one comparison of a frame they all make: the kernel's
// decision and action (XDP: and the frame it leaves) against the reference's decision (Decide or
// DecideTracked). Only a missing privilege skips; as root, a program the verifier refuses fails
// every test. The planes are shared by the suites of one binary: the tc one loaded in
// SetUpTestSuite, the XDP one when a test first asks for it, both dropped after the suite.
// Single-threaded test helpers; need root.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/bpf_plane.h"
#include "common/decision.h"
#include "tests/agent/bpf_test_run.h"

namespace nlb::test {

using Hook = agent::BpfPlane::Hook;

// For INSTANTIATE_TEST_SUITE_P over hooks: "tc" or "xdp".
inline std::string HookName(Hook hook) { return hook == Hook::kXdp ? "xdp" : "tc"; }
inline std::string HookParamName(const ::testing::TestParamInfo<Hook>& info) {
  return HookName(info.param);
}

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
  // For fixtures that need other options: call from their own SetUpTestSuite. Loads the tc
  // program now (plane_ is it until a test picks a hook); the XDP one, with the same options,
  // when first used.
  static void Load(const agent::BpfPlane::LoadOptions& options) {
    options_ = options;
    LoadHook(Hook::kTc);
    plane_ = planes_[0];
    xdp_ = false;
  }
  static void TearDownTestSuite() {
    for (size_t i = 0; i < planes_.size(); ++i) {
      delete planes_[i];
      planes_[i] = nullptr;
      tried_[i] = false;
      why_not_[i].clear();
    }
    plane_ = nullptr;
  }
  // The hook this test runs on.
  virtual Hook TestHook() const { return Hook::kTc; }
  void SetUp() override {
    const Hook hook = TestHook();
    const auto i = static_cast<size_t>(hook);
    if (!tried_[i]) LoadHook(hook);
    plane_ = planes_[i];
    xdp_ = hook == Hook::kXdp;
    if (plane_ == nullptr && geteuid() != 0) GTEST_SKIP() << "needs root: " << why_not_[i];
    ASSERT_NE(plane_, nullptr) << "cannot load the " << HookName(hook)
                               << " BPF program: " << why_not_[i];
  }

  static void Install(const MapSnapshot& s,
                      std::chrono::nanoseconds lease = std::chrono::hours(1)) {
    ASSERT_TRUE(plane_->Publish(s).ok());
    ASSERT_TRUE(plane_->RenewLease(lease).ok());
  }

  static KernelDecision Run(const std::vector<uint8_t>& frame, uint32_t repeat = 1,
                            uint32_t* duration_ns = nullptr) {
    if (xdp_) {
      return RunXdpProgram(plane_->program_fd(), plane_->xdp_record_fd(), frame, repeat,
                           duration_ns);
    }
    return RunProgram(plane_->program_fd(), frame, repeat, duration_ns);
  }

  // Runs frame through the kernel and compares with the reference's decision `want` on `packet`
  // under s; false (with a failure naming `what`, the hook and the frame) when they differ. A
  // frame that the tc BPF_PROG_TEST_RUN itself refuses (too short for the IP header its
  // ethertype names) is counted in refused_ and agrees; nothing longer may be refused, and the
  // XDP harness takes every frame of an Ethernet header or more. XDP: the frame the program
  // leaves must be the expected one too (only an accepted frame's destination MAC changes, no
  // metadata added).
  static bool KernelAgrees(const std::vector<uint8_t>& frame, const Decision& want,
                           const ParsedPacket& packet, const MapSnapshot& s,
                           const std::string& what) {
    const KernelDecision got = Run(frame);
    if (!xdp_ && got.action == -EINVAL && frame.size() < HarnessMinimum(frame)) {
      ++refused_;
      return true;
    }
    const int action = xdp_ ? ExpectedXdpAction(want, packet, s) : ExpectedAction(want, packet, s);
    const bool frame_ok = !xdp_ || got.frame_out == ExpectedXdpFrame(want, frame);
    const bool metadata_ok = got.metadata.empty();
    if (SameDecision(got, want, action) && frame_ok && metadata_ok) return true;
    ADD_FAILURE() << what << " (" << (xdp_ ? "xdp" : "tc")
                  << "): " << DescribeDifference(got, want, action, frame)
                  << (frame_ok ? "" : "\n  the program left another frame")
                  << (metadata_ok ? "" : "\n  the program left metadata");
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

  static inline agent::BpfPlane* plane_ = nullptr;  // the current test's hook's
  static inline bool xdp_ = false;
  static inline int refused_ = 0;

 private:
  static void LoadHook(Hook hook) {
    const auto i = static_cast<size_t>(hook);
    tried_[i] = true;
    agent::BpfPlane::LoadOptions options = options_;
    options.hook = hook;
    Result<std::unique_ptr<agent::BpfPlane>> loaded = agent::BpfPlane::Load(options);
    if (!loaded.ok()) {
      why_not_[i] = loaded.status().ToString();
      return;
    }
    planes_[i] = std::move(loaded).value().release();
    if (hook == Hook::kXdp && !SetUpXdpRecording(planes_[i]->xdp_settings_fd())) {
      why_not_[i] = "cannot write nlb_xdp_settings";
      delete planes_[i];
      planes_[i] = nullptr;
    }
  }

  static inline agent::BpfPlane::LoadOptions options_;
  static inline std::array<agent::BpfPlane*, 2> planes_{};
  static inline std::array<bool, 2> tried_{};
  static inline std::array<std::string, 2> why_not_;
};

}  // namespace nlb::test
