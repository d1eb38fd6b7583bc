// What the tc program, and the XDP program (recording off, as nlbd runs it), cost per frame, by the
// kind of frame (BPF_PROG_TEST_RUN, repeated), on the decision table's cluster as host 1 sees it
// with the default-sized flow maps: printed for docs/bpf-data-plane.md and docs/benchmarks.md. The
// figures include the harness's skb set-up per run. Needs root and a kernel with BPF; skips with
// the reason otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "agent/bpf_plane.h"
#include "common/decision.h"
#include "tests/agent/bpf_plane_fixture.h"
#include "tests/support/decision_table.h"

namespace nlb {
namespace {

using agent::BpfPlane;
using namespace test::decision_table;  // NOLINT(google-build-using-namespace)

// The first client port from 20000 whose frame Decide() gives `reason` on s.
template <typename Build>
std::vector<uint8_t> FirstWith(const MapSnapshot& s, DecisionReason reason, Build build) {
  ParsedPacket packet;
  for (uint32_t port = 20000; port < 60000; ++port) {
    std::vector<uint8_t> frame = build(static_cast<uint16_t>(port));
    if (Decide(frame, s, &packet).reason == reason) return frame;
  }
  ADD_FAILURE() << "no port gives " << DecisionReasonName(reason);
  return {};
}

class BpfFrameCostTest : public ::testing::TestWithParam<BpfPlane::Hook> {};

INSTANTIATE_TEST_SUITE_P(Hooks, BpfFrameCostTest,
                         ::testing::Values(BpfPlane::Hook::kTc, BpfPlane::Hook::kXdp),
                         test::HookParamName);

TEST_P(BpfFrameCostTest, NanosecondsPerFrameByKind) {
  BpfPlane::LoadOptions options;
  options.hook = GetParam();
  const bool xdp = GetParam() == BpfPlane::Hook::kXdp;
  Result<std::unique_ptr<BpfPlane>> loaded = BpfPlane::Load(options);
  if (!loaded.ok() && geteuid() != 0) GTEST_SKIP() << "needs root: " << loaded.status().ToString();
  ASSERT_TRUE(loaded.ok()) << "cannot load the BPF program: " << loaded.status().ToString();
  BpfPlane& plane = *loaded.value();
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint32_t kRepeat = 50000;
#else
  constexpr uint32_t kRepeat = 1000000;
#endif
  const MapSnapshot s = Snapshot(1);
  ASSERT_TRUE(plane.Publish(s).ok());
  ASSERT_TRUE(plane.RenewLease(std::chrono::hours(1)).ok());
  const auto tcp = [](uint16_t port) { return Tcp(kClient, kVip, port, 80); };
  const auto udp = [](uint16_t port) { return Udp(kClient, kVip2, port, 53); };
  struct Kind {
    const char* name;
    std::vector<uint8_t> frame;
  };
  const Kind kinds[] = {
      {"tcp_owned", FirstWith(s, DecisionReason::kOwnedBucket, tcp)},
      {"tcp_others", FirstWith(s, DecisionReason::kOtherHostsBucket, tcp)},
      {"udp_owned", FirstWith(s, DecisionReason::kOwnedBucket, udp)},
      {"udp_others", FirstWith(s, DecisionReason::kOtherHostsBucket, udp)},
      {"not_for_vip", Udp(kClient, kNotVip, 20000, 53)},
  };
  std::string line = test::HookName(GetParam()) + " ns per frame:";
  for (const Kind& k : kinds) {
    uint32_t ns = 0;
    const test::KernelDecision d =
        xdp ? test::RunXdpProgram(plane.program_fd(), plane.xdp_record_fd(), k.frame, kRepeat, &ns)
            : test::RunProgram(plane.program_fd(), k.frame, kRepeat, &ns);
    EXPECT_GE(d.action, 0) << k.name;
    line += std::string(" ") + k.name + " " + std::to_string(ns);
  }
  std::printf("%s\n", line.c_str());
}

}  // namespace
}  // namespace nlb
