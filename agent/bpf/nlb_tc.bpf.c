/* nlb's tc (clsact ingress) program: the BPF data plane's decision (decide.bpf.h, shared with
 * the XDP program nlb_xdp.bpf.c) at the tc hook (docs/bpf-data-plane.md). The decision is left
 * in skb->cb (NLB_CB_*) so that BPF_PROG_TEST_RUN can compare it with Decide()
 * (tests/agent/bpf_agreement_test.cc).
 *
 * What the kernel then does with the frame: accepted -> made a packet for this host
 * (bpf_skb_change_type(PACKET_HOST)) and passed up; neighbour requests for a VIP and dropped
 * IPv4/IPv6 packets to a VIP -> TC_ACT_SHOT (the agent answers neighbours from its tap, which
 * sees a frame before tc); the rest (not for a VIP, or too broken to know) -> passed to the
 * stack untouched, as the nftables diversion does.
 *
 * VLAN (issue 11): a tagged frame for a VIP is foreign_vlan, dropped, as in Decide(). At a real
 * hook the kernel has usually moved the outer tag into skb metadata (skb->vlan_present), which
 * BPF_PROG_TEST_RUN never does, so that counts as a tag too. Build: clang -target bpf -O2 -g
 * (agent/CMakeLists.txt). */
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>

/* After linux/bpf.h, whose types it uses. */
#include <bpf/bpf_helpers.h>

/* The context abstraction of decide.bpf.h. */
#define NLB_CTX struct __sk_buff
#define nlb_ctx_load_bytes(ctx, at, to, length) bpf_skb_load_bytes(ctx, at, to, length)
#define nlb_ctx_length(ctx) ((ctx)->len)

#include "agent/bpf/decide.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int nlb_ingress(struct __sk_buff* skb) {
  struct decision d;
  if (!nlb_decide_frame(skb, skb->len, skb->vlan_present, &d)) return TC_ACT_OK;
  skb->cb[NLB_CB_DECISION] = nlb_cb_decision(&d);
  skb->cb[NLB_CB_BUCKET] = d.bucket;
  skb->cb[NLB_CB_RULE] = (__u32)(d.rule + 1);

  if (d.verdict == NLB_VERDICT_ACCEPT) {
    /* Frames to the cluster's group MAC arrive as PACKET_MULTICAST, which TCP refuses. */
    bpf_skb_change_type(skb, PACKET_HOST);
    return TC_ACT_OK;
  }
  /* The agent answers it from its tap, which saw the frame before tc. */
  if (d.verdict == NLB_VERDICT_NEIGHBOUR) return TC_ACT_SHOT;
  return nlb_must_discard(&d) ? TC_ACT_SHOT : TC_ACT_OK;
}
