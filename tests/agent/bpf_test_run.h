// Running the loaded tc program on one frame through BPF_PROG_TEST_RUN and reading back the
// decision it left in skb->cb (NLB_CB_*), for the BPF agreement and flow table tests. Also what
// the program must do with a frame that the reference (Decide / DecideTracked) judged so.
// Single-threaded test helpers; need root.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/bpf/flow_key_layout.h"
#include "common/decision.h"
#include "common/map_snapshot.h"
#include "common/packet.h"

namespace nlb::test {

// The shortest frame BPF_PROG_TEST_RUN takes: the kernel pulls the IP header of the outer
// ethertype (no VLAN tag is looked through) before the program runs, and refuses (EINVAL) a frame
// shorter than that.
inline size_t HarnessMinimum(const std::vector<uint8_t>& frame) {
  if (frame.size() < 14) return 14;
  const uint16_t ethertype = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
  if (ethertype == 0x0800) return 14 + 20;
  if (ethertype == 0x86dd) return 14 + 40;
  return 14;
}

struct KernelDecision {
  int action = -1;  // TC_ACT_*, or -errno when the harness refused the frame
  Decision decision;
};

inline KernelDecision RunProgram(int program_fd, const std::vector<uint8_t>& frame,
                                 uint32_t repeat = 1, uint32_t* duration_ns = nullptr) {
  __sk_buff in{};
  __sk_buff out{};
  // Designators in the struct's declaration order, as C++ requires.
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &in, .ctx_out = &out,
              .ctx_size_in = sizeof(in), .ctx_size_out = sizeof(out),
              .repeat = static_cast<int>(repeat));
  KernelDecision k;
  if (bpf_prog_test_run_opts(program_fd, &opts) != 0) {
    k.action = -errno;
    return k;
  }
  if (duration_ns != nullptr) *duration_ns = opts.duration;
  k.action = static_cast<int>(opts.retval);
  const uint32_t code = out.cb[NLB_CB_DECISION];
  k.decision.verdict = static_cast<Verdict>(code & 0xff);
  k.decision.reason = static_cast<DecisionReason>((code >> 8) & 0xff);
  k.decision.parse = static_cast<ParseVerdict>((code >> 16) & 0xff);
  k.decision.bucket = out.cb[NLB_CB_BUCKET];
  k.decision.rule_index = static_cast<int16_t>(static_cast<int32_t>(out.cb[NLB_CB_RULE]) - 1);
  return k;
}

// What the program must do with a frame the reference judged so (nlb_tc.bpf.c's header).
inline int ExpectedAction(const Decision& d, const ParsedPacket& p, const MapSnapshot& s) {
  if (d.verdict == Verdict::kAccept) return TC_ACT_OK;
  if (d.verdict == Verdict::kNeighbour) return TC_ACT_SHOT;
  // Another VLAN's neighbour request or packet for a VIP: no stack here may answer it.
  if (d.reason == DecisionReason::kForeignVlan) return TC_ACT_SHOT;
  const bool ip = p.l3 == L3Kind::kIpv4 || p.l3 == L3Kind::kIpv6;
  if (!ip || p.dst.family == IpAddress::Family::kNone) return TC_ACT_OK;
  for (const IpAddress& vip : s.vips) {
    if (vip == p.dst) return TC_ACT_SHOT;
  }
  return TC_ACT_OK;
}

inline bool SameDecision(const KernelDecision& got, const Decision& want, int want_action) {
  return got.action == want_action && got.decision.verdict == want.verdict &&
         got.decision.reason == want.reason && got.decision.parse == want.parse &&
         got.decision.rule_index == want.rule_index && got.decision.bucket == want.bucket;
}

// "kernel action A verdict/reason/parse rule R bucket B; reference: ..." and the frame in hex.
inline std::string DescribeDifference(const KernelDecision& got, const Decision& want,
                                      int want_action, const std::vector<uint8_t>& frame) {
  const auto one = [](int action, const Decision& d) {
    return "action " + std::to_string(action) + " " + std::string(VerdictName(d.verdict)) + "/" +
           std::string(DecisionReasonName(d.reason)) + "/" +
           std::string(ParseVerdictName(d.parse)) + " rule " + std::to_string(d.rule_index) +
           " bucket " + std::to_string(d.bucket);
  };
  std::string hex;
  for (uint8_t byte : frame) {
    char b[4];
    std::snprintf(b, sizeof(b), "%02x", byte);
    hex += b;
  }
  return "kernel " + one(got.action, got.decision) + "; reference " + one(want_action, want) +
         "\n  frame: " + hex;
}

}  // namespace nlb::test
