/* nlb's XDP program (host.data_path: xdp): the BPF data plane's decision (decide.bpf.h, shared
 * with the tc program nlb_tc.bpf.c) at the native XDP hook of the cluster interface, before the
 * kernel builds an skb (docs/bpf-data-plane.md, "XDP").
 *
 * What it does with the frame:
 *   accepted -> its destination MAC becomes the interface's own (nlb_xdp_settings, written by
 *               agent/xdp_attach.cc) and XDP_PASS: XDP has no skb whose pkt_type it could set,
 *               and a frame to the cluster's group MAC would reach the stack as PACKET_MULTICAST,
 *               which TCP refuses; to its own MAC the stack takes it as PACKET_HOST;
 *   neighbour requests for a VIP -> XDP_PASS untouched: the agent's tap sees a frame only after
 *               XDP, and answers them (the stack does not: the VIPs live on nlb0 and the cluster
 *               interface has arp_ignore 1);
 *   another VLAN's frames for a VIP, dropped packets to a VIP -> XDP_DROP;
 *   the rest (not for a VIP, or too broken to know) -> XDP_PASS untouched.
 *
 * Where the kernel built the skb before XDP ran (veth: the frame came as an skb from its peer),
 * that skb keeps the pkt_type of the original destination MAC (PACKET_MULTICAST): the rewrite
 * alone does not make TCP take it. nlb_xdp_deliver, a tc program of this object that nlbd
 * attaches at the same interface's clsact ingress (agent/xdp_attach.h), then makes a frame to
 * the interface's own MAC that is not PACKET_HOST a packet for this host. It sees only what XDP
 * passed; with drivers that build the skb after XDP (the usual NIC) it finds nothing to change.
 *
 * VLAN: at XDP the tag is in the frame, where the parser finds it, unless the driver moved it
 * out (NIC VLAN stripping; veth, when its peer sent the tag as skb metadata): then only the tc
 * half can see it (skb->vlan_present), and it drops the accepted frame as foreign_vlan. When
 * nlb_xdp_settings.record is set (tests only), the decision's NLB_CB_* words go into
 * nlb_xdp_record, since BPF_PROG_TEST_RUN of an XDP program returns no cb. Build: clang -target
 * bpf -O2 -g (agent/CMakeLists.txt). */
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>

/* After linux/bpf.h, whose types it uses. */
#include <bpf/bpf_helpers.h>

/* The context abstraction of decide.bpf.h. */
#define NLB_CTX struct xdp_md
#define nlb_ctx_load_bytes(ctx, at, to, length) bpf_xdp_load_bytes(ctx, at, to, length)
#define nlb_ctx_length(ctx) ((__u32)bpf_xdp_get_buff_len(ctx))

#include "agent/bpf/decide.bpf.h"
#include "common/bpf/xdp_layout.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct nlb_xdp_settings);
} nlb_xdp_settings SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct nlb_xdp_record);
} nlb_xdp_record SEC(".maps");

SEC("xdp")
int nlb_xdp(struct xdp_md* ctx) {
  __u32 zero = 0;
  const struct nlb_xdp_settings* settings = bpf_map_lookup_elem(&nlb_xdp_settings, &zero);
  if (!settings) return XDP_PASS; /* cannot happen: an array always has its entries */
  struct decision d;
  if (!nlb_decide_frame(ctx, nlb_ctx_length(ctx), 0, &d)) return XDP_PASS;
  if (settings->record) {
    struct nlb_xdp_record* r = bpf_map_lookup_elem(&nlb_xdp_record, &zero);
    if (r) {
      r->cb[NLB_CB_DECISION] = nlb_cb_decision(&d);
      r->cb[NLB_CB_BUCKET] = d.bucket;
      r->cb[NLB_CB_RULE] = (__u32)(d.rule + 1);
    }
  }

  if (d.verdict == NLB_VERDICT_ACCEPT) {
    __u8* data = (__u8*)(long)ctx->data;
    const __u8* end = (const __u8*)(long)ctx->data_end;
    /* An accepted frame was parsed whole, so it has an Ethernet header: the check is the
     * verifier's. */
    if (data + 6 > end) return XDP_PASS;
    __builtin_memcpy(data, settings->mac, 6);
    return XDP_PASS;
  }
  if (d.verdict == NLB_VERDICT_NEIGHBOUR) return XDP_PASS;
  return nlb_must_discard(&d) ? XDP_DROP : XDP_PASS;
}

/* The tc half (see above): a frame XDP passed to the interface's own MAC whose pkt_type is not
 * PACKET_HOST (XDP rewrote it) becomes a packet for this host; and a frame with a VLAN tag in skb
 * metadata, which XDP could not see, is another VLAN's when it is addressed to a VIP: dropped and
 * counted foreign_vlan (Decide() drops a tagged frame for a VIP). XDP has counted such a frame
 * already by what it saw (untagged), and no metadata can tell this half what that was (this
 * kernel refuses bpf_xdp_adjust_meta), so it stays counted there as well
 * (docs/bpf-data-plane.md, "XDP"). */
SEC("tc")
int nlb_xdp_deliver(struct __sk_buff* skb) {
  if (skb->vlan_present) {
    struct parsed p = {};
    __u8 h[2];
    if (bpf_skb_load_bytes(skb, 12, h, sizeof(h)) < 0) return TC_ACT_OK;
    const __u16 ethertype = be16(h);
    if (ethertype == 0x0800) {
      if (bpf_skb_load_bytes(skb, ETH_HEADER + 16, p.dst.w, 4) < 0) return TC_ACT_OK;
      p.family = NLB_FAMILY_V4;
    } else if (ethertype == 0x86dd) {
      if (bpf_skb_load_bytes(skb, ETH_HEADER + 24, p.dst.w, 16) < 0) return TC_ACT_OK;
      p.family = NLB_FAMILY_V6;
    } else {
      return TC_ACT_OK;
    }
    __u32 zero = 0;
    const struct nlb_control* control = bpf_map_lookup_elem(&nlb_control, &zero);
    if (!control) return TC_ACT_OK;
    if (nlb_is_vip(control->active_half & 1, &p, 0)) {
      count(&nlb_counters, NLB_REASON_FOREIGN_VLAN, skb->len);
      return TC_ACT_SHOT;
    }
    return TC_ACT_OK;
  }
  if (skb->pkt_type == PACKET_HOST) return TC_ACT_OK;
  __u32 zero = 0;
  const struct nlb_xdp_settings* settings = bpf_map_lookup_elem(&nlb_xdp_settings, &zero);
  if (!settings) return TC_ACT_OK;
  __u8 mac[6];
  if (bpf_skb_load_bytes(skb, 0, mac, sizeof(mac)) < 0) return TC_ACT_OK;
  int same = 1;
  for (int i = 0; i < 6; ++i) same &= mac[i] == settings->mac[i];
  if (same) bpf_skb_change_type(skb, PACKET_HOST);
  return TC_ACT_OK;
}
