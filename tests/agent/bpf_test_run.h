// Running the loaded tc program on one frame through BPF_PROG_TEST_RUN and reading back the
// decision it left in skb->cb (NLB_CB_*), for the BPF agreement and flow table tests; the same
// for the XDP program, which leaves it in its nlb_xdp_record map (an XDP context has no cb) when
// its settings say so. Also what either program must do with a frame that the reference
// (Decide / DecideTracked) judged so. Single-threaded test helpers; need root.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/bpf/flow_key_layout.h"
#include "common/bpf/xdp_layout.h"
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
  int action = -1;  // TC_ACT_* or XDP_*, or -errno when the harness refused the frame
  Decision decision;
  std::vector<uint8_t> frame_out;  // XDP: the frame as the program left it
  std::vector<uint8_t> metadata;   // XDP: what it put before the frame (struct nlb_xdp_mark)
};

inline void DecodeDecision(const uint32_t* cb, Decision* d) {
  const uint32_t code = cb[NLB_CB_DECISION];
  d->verdict = static_cast<Verdict>(code & 0xff);
  d->reason = static_cast<DecisionReason>((code >> 8) & 0xff);
  d->parse = static_cast<ParseVerdict>((code >> 16) & 0xff);
  d->bucket = cb[NLB_CB_BUCKET];
  d->rule_index = static_cast<int16_t>(static_cast<int32_t>(cb[NLB_CB_RULE]) - 1);
}

// The XDP program's settings for tests: the MAC it delivers owned frames to, recording on.
inline constexpr uint8_t kXdpTestMac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x01};
inline bool SetUpXdpRecording(int settings_fd) {
  nlb_xdp_settings settings{};
  for (size_t i = 0; i < 6; ++i) settings.mac[i] = kXdpTestMac[i];
  settings.record = 1;
  const uint32_t zero = 0;
  return bpf_map_update_elem(settings_fd, &zero, &settings, BPF_ANY) == 0;
}

// REQUIRES: SetUpXdpRecording on the program's settings.
inline KernelDecision RunXdpProgram(int program_fd, int record_fd,
                                    const std::vector<uint8_t>& frame, uint32_t repeat = 1,
                                    uint32_t* duration_ns = nullptr) {
  KernelDecision k;
  k.frame_out.resize(frame.size() + 256);
  // ctx_out's data: where the frame starts in data_out, after the metadata the program added.
  xdp_md in{};
  xdp_md out{};
  in.data_end = static_cast<uint32_t>(frame.size());
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = k.frame_out.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()),
              .data_size_out = static_cast<uint32_t>(k.frame_out.size()), .ctx_in = &in,
              .ctx_out = &out, .ctx_size_in = sizeof(in), .ctx_size_out = sizeof(out),
              .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(program_fd, &opts) != 0) {
    k.action = -errno;
    return k;
  }
  k.frame_out.resize(opts.data_size_out);
  const size_t meta = std::min<size_t>(out.data, k.frame_out.size());
  k.metadata.assign(k.frame_out.begin(), k.frame_out.begin() + static_cast<std::ptrdiff_t>(meta));
  k.frame_out.erase(k.frame_out.begin(), k.frame_out.begin() + static_cast<std::ptrdiff_t>(meta));
  if (duration_ns != nullptr) *duration_ns = opts.duration;
  k.action = static_cast<int>(opts.retval);
  nlb_xdp_record record{};
  const uint32_t zero = 0;
  if (bpf_map_lookup_elem(record_fd, &zero, &record) != 0) {
    k.action = -errno;
    return k;
  }
  DecodeDecision(record.cb, &k.decision);
  return k;
}

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
  DecodeDecision(out.cb, &k.decision);
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

// The XDP program's: accepted frames go up (XDP_PASS, destination MAC rewritten), and so do
// neighbour requests for a VIP (the agent's tap sees a frame only after XDP); what the tc program
// drops it drops (XDP_DROP); the rest passes untouched.
inline int ExpectedXdpAction(const Decision& d, const ParsedPacket& p, const MapSnapshot& s) {
  if (d.verdict == Verdict::kNeighbour) return XDP_PASS;
  return ExpectedAction(d, p, s) == TC_ACT_SHOT ? XDP_DROP : XDP_PASS;
}

// The frame the XDP program must leave: accepted ones with kXdpTestMac as destination, every
// other one as it came.
inline std::vector<uint8_t> ExpectedXdpFrame(const Decision& d, std::vector<uint8_t> frame) {
  if (d.verdict == Verdict::kAccept && frame.size() >= 6) {
    for (size_t i = 0; i < 6; ++i) frame[i] = kXdpTestMac[i];
  }
  return frame;
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
