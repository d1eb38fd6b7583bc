/* The BPF data plane's decision, shared by its two programs: the tc one (nlb_tc.bpf.c) and the XDP
 * one (nlb_xdp.bpf.c), so that both make common/decision.cc's Decide() (and DecideTracked())
 * decision over the same maps, the same lease check, the same counters and the same connection
 * table, from one copy of the code (docs/bpf-data-plane.md).
 *
 * Per frame (nlb_decide_frame): parse (parse.bpf.h) -> neighbour request for a VIP? -> VIP? ->
 * serving and leased? -> port rule -> disabled / single host / bucket owner of the rule's
 * affinity key -> verdict and reason, counted per CPU by reason and by rule (the rule's counter
 * slot, [slot][accepted]: common/bpf/rule_counter_layout.h). TCP under a multiple-host rule then
 * goes through the kernel connection table (track.bpf.h): DecideTracked()'s refinement, by the
 * bucket's moving and pending flags. What the hook then does with the frame (deliver, drop,
 * pass) is the including program's.
 *
 * The context abstraction: before including this header the program defines
 *   NLB_CTX                                 its context type (struct __sk_buff, struct xdp_md);
 *   nlb_ctx_load_bytes(ctx, at, to, length) copies frame bytes (bpf_skb_load_bytes,
 *                                           bpf_xdp_load_bytes), < 0 when they are not there;
 *   nlb_ctx_length(ctx)                     the frame's length in bytes.
 * The parser reads the frame only through these. Runs in the kernel per packet. */
#pragma once

#include <linux/bpf.h>

/* After linux/bpf.h, whose types it uses. */
#include <bpf/bpf_helpers.h>

#include "agent/bpf/parse.bpf.h"
#include "common/bpf/flow_key_layout.h"
#include "common/bpf/rule_counter_layout.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct nlb_control);
} nlb_control SEC(".maps");

/* Both halves of the map are memory-mapped by the loader, which writes the inactive one in place.
 */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, NLB_HALVES);
  __type(key, __u32);
  __type(value, struct nlb_config);
} nlb_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, NLB_HALVES* NLB_MAX_RULES);
  __type(key, __u32);
  __type(value, struct nlb_rule_buckets);
} nlb_buckets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NLB_COUNTER_SLOTS);
  __type(key, __u32);
  __type(value, struct nlb_counter);
} nlb_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NLB_RULE_COUNTER_ENTRIES);
  __type(key, __u32);
  __type(value, struct nlb_counter);
} nlb_rule_counters SEC(".maps");

struct decision {
  __u32 verdict;
  __u32 reason;
  __u32 parse;
  __s32 rule; /* -1: none */
  __u32 bucket;
  __u32 vip; /* 1 + the index of the VIP the packet is addressed to; 0: none, or not searched */
};

/* After struct decision, which its global function takes. */
#include "agent/bpf/track.bpf.h"

static __always_inline int same_address(const struct address* a, const __u8* b) {
  const __u32* w = (const __u32*)b;
  return a->w[0] == w[0] && a->w[1] == w[1] && a->w[2] == w[2] && a->w[3] == w[3];
}

/* The functions below are global (not inlined): the verifier checks each once with unknown
 * arguments, instead of once per path that reaches it, which keeps the whole program far below
 * its complexity limit. They look the map half up themselves because a global function cannot
 * take a pointer to a struct holding arrays of structs. */

/* 1 + the index of the VIP that p's destination (which 0) or neighbour-solicitation target
 * (which 1) is, in the map half; 0 when it is none. */
__noinline int nlb_is_vip(__u32 half, const struct parsed* p, __u32 which) {
  if (!p) return 0;
  const struct nlb_config* cfg = bpf_map_lookup_elem(&nlb_config, &half);
  if (!cfg) return 0;
  const struct address* a = which ? &p->nd_target : &p->dst;
  const __u8 family = which ? NLB_FAMILY_V6 : p->family;
  for (int i = 0; i < NLB_MAX_VIPS; ++i) {
    if (i >= cfg->vip_count) break;
    if (cfg->vips[i].family == family && same_address(a, cfg->vips[i].address)) return i + 1;
  }
  return 0;
}

/* PortRule::Covers at `port`: the rule's VIP (or every VIP), protocol and port range. */
static __always_inline int covers(const struct nlb_rule* r, const struct parsed* p, __u16 port) {
  if (r->vip_family != NLB_FAMILY_ALL &&
      (r->vip_family != p->family || !same_address(&p->dst, r->vip))) {
    return 0;
  }
  const int protocol_ok = r->protocol == NLB_PROTOCOL_TCP ? p->ip_protocol == PROTO_TCP
                          : r->protocol == NLB_PROTOCOL_UDP
                              ? p->ip_protocol == PROTO_UDP
                              : (p->ip_protocol == PROTO_TCP || p->ip_protocol == PROTO_UDP);
  return protocol_ok && port >= r->first_port && port <= r->last_port;
}

/* The first covering rule of the half, -1 if none. */
__noinline int nlb_first_rule(__u32 half, const struct parsed* p) {
  if (!p) return -1;
  const struct nlb_config* cfg = bpf_map_lookup_elem(&nlb_config, &half);
  if (!cfg) return -1;
  for (int i = 0; i < NLB_MAX_RULES; ++i) {
    if (i >= cfg->rule_count) break;
    if (covers(&cfg->rules[i], p, p->dst_port)) return i;
  }
  return -1;
}

/* Fragments (no ports in most pieces): the rule the loader chose for (VIP, protocol). */
__noinline int nlb_fragment_rule(__u32 half, const struct parsed* p, __u32 vip) {
  if (!p || vip == 0 || vip > NLB_MAX_VIPS) return -1;
  const struct nlb_config* cfg = bpf_map_lookup_elem(&nlb_config, &half);
  if (!cfg) return -1;
  const __u32 v = (vip - 1) & (NLB_MAX_VIPS - 1);
  if (p->ip_protocol == PROTO_TCP) return cfg->fragment_rule[v][0];
  if (p->ip_protocol == PROTO_UDP) return cfg->fragment_rule[v][1];
  return -1;
}

/* The bucket of p's source under affinity (common/bpf/flow_key_layout.h). */
__noinline __u32 nlb_flow_bucket(const struct parsed* p, __u32 affinity, __u32 ipv6_prefix) {
  if (!p) return 0;
  struct nlb_flow_key key;
  nlb_flow_key_make(&key, (const __u8*)p->src.w, p->family == NLB_FAMILY_V4, p->has_ports,
                    p->src_port, (__u8)affinity, (__u8)ipv6_prefix);
  return nlb_bucket_of_hash(nlb_flow_key_hash(&key)) & (NLB_BUCKET_COUNT - 1);
}

static __always_inline int is_local(const struct nlb_config* cfg, __u16 owner) {
  return owner != 0 && owner == cfg->local_host_id;
}

static __always_inline void set(struct decision* d, __u32 verdict, __u32 reason) {
  d->verdict = verdict;
  d->reason = reason;
}

static __always_inline void decide(const struct parsed* p, const struct nlb_control* control,
                                   const struct nlb_config* cfg, __u32 half, struct decision* d) {
  if (d->parse != NLB_PARSE_OK) {
    /* Well-formed traffic of another kind is not an error. */
    const int foreign =
        d->parse == NLB_PARSE_UNSUPPORTED_ETHERTYPE || d->parse == NLB_PARSE_UNSUPPORTED_ARP;
    set(d, NLB_VERDICT_DROP, foreign ? NLB_REASON_NOT_FOR_VIP : NLB_REASON_MALFORMED);
    /* A broken packet to a VIP is still dropped (nlb_ingress): no other host's may reach this
     * stack. Only malformed frames pay this search here; the others' is the one below. */
    if ((p->l3 == L3_IPV4 || p->l3 == L3_IPV6) && p->dst_set) d->vip = nlb_is_vip(half, p, 0);
    return;
  }
  /* A tagged frame for a VIP belongs to another VLAN: dropped before it is answered or accepted. */
  const __u32 neighbour = p->has_vlan ? NLB_VERDICT_DROP : NLB_VERDICT_NEIGHBOUR;
  const __u32 neighbour_reason =
      p->has_vlan ? NLB_REASON_FOREIGN_VLAN : NLB_REASON_NEIGHBOUR_REQUEST;
  if (p->l3 == L3_ARP) {
    if (p->arp_operation == 1 && nlb_is_vip(half, p, 0)) {
      set(d, neighbour, neighbour_reason);
    } else {
      set(d, NLB_VERDICT_DROP, NLB_REASON_NOT_FOR_VIP);
    }
    return;
  }
  if (p->has_nd_target && nlb_is_vip(half, p, 1)) {
    set(d, neighbour, neighbour_reason);
    return;
  }
  const int vip = nlb_is_vip(half, p, 0);
  d->vip = (__u32)vip;
  if (!vip) {
    set(d, NLB_VERDICT_DROP, NLB_REASON_NOT_FOR_VIP);
    return;
  }
  if (p->has_vlan) {
    set(d, NLB_VERDICT_DROP, NLB_REASON_FOREIGN_VLAN);
    return;
  }
  /* The lease (docs/protocol.md): past it this host serves nothing, so a stalled nlbd stops
   * accepting before its peers give its buckets to others. */
  if (!cfg->serving || bpf_ktime_get_ns() >= control->lease_until_ns) {
    set(d, NLB_VERDICT_DROP, NLB_REASON_NOT_SERVING);
    return;
  }

  const int index =
      p->is_fragment ? nlb_fragment_rule(half, p, (__u32)vip) : nlb_first_rule(half, p);
  if (index < 0 || index >= NLB_MAX_RULES) {
    if (is_local(cfg, cfg->default_host_id)) {
      set(d, NLB_VERDICT_ACCEPT, NLB_REASON_DEFAULT_HOST);
    } else {
      set(d, NLB_VERDICT_DROP, NLB_REASON_OTHER_DEFAULT_HOST);
    }
    return;
  }
  /* Masked, not just compared: clang may index with a copy of `index` the check did not bound. */
  const __u32 rule = (__u32)index & (NLB_MAX_RULES - 1);
  const struct nlb_rule* r = &cfg->rules[rule];
  d->rule = index;
  if (!r->enabled || r->mode == NLB_MODE_DISABLED) {
    set(d, NLB_VERDICT_DROP, NLB_REASON_RULE_DISABLED);
    return;
  }
  if (r->mode == NLB_MODE_SINGLE) {
    if (is_local(cfg, r->single_owner)) {
      set(d, NLB_VERDICT_ACCEPT, NLB_REASON_SINGLE_HOST_OWNER);
    } else {
      set(d, NLB_VERDICT_DROP, NLB_REASON_OTHER_SINGLE_HOST);
    }
    return;
  }
  /* Fragments key on addresses only: affinity none falls back to the source address. */
  __u8 affinity = r->affinity;
  if (p->is_fragment && affinity == NLB_AFFINITY_NONE) affinity = NLB_AFFINITY_SINGLE;
  d->bucket = nlb_flow_bucket(p, affinity, r->ipv6_prefix) & (NLB_BUCKET_COUNT - 1);
  const __u32 slot = nlb_buckets_key(half, rule);
  const struct nlb_rule_buckets* owners = bpf_map_lookup_elem(&nlb_buckets, &slot);
  const struct nlb_bucket* b = r->has_buckets && owners ? &owners->bucket[d->bucket] : 0;
  if (b && is_local(cfg, b->owner)) {
    set(d, NLB_VERDICT_ACCEPT, NLB_REASON_OWNED_BUCKET);
  } else {
    set(d, NLB_VERDICT_DROP, NLB_REASON_OTHER_HOSTS_BUCKET);
  }
  /* DecideTracked: TCP with ports, in an owned bucket or in another's that is moving. */
  const __u32 flags = b ? b->flags : 0;
  if (p->ip_protocol == PROTO_TCP && !p->is_fragment && p->has_ports &&
      (d->reason == NLB_REASON_OWNED_BUCKET || (flags & NLB_BUCKET_MOVING))) {
    nlb_track(p, d, flags);
  }
}

static __always_inline void count(void* map, __u32 slot, __u32 bytes) {
  struct nlb_counter* c = bpf_map_lookup_elem(map, &slot);
  if (!c) return;
  c->packets += 1; /* per-CPU: no other writer */
  c->bytes += bytes;
}

/* What a hook must not let through although Decide() drops it: another VLAN's neighbour request
 * or packet for a VIP, and a dropped packet addressed to a VIP (decide() found it), which no
 * other host's packet may reach this stack as. Every other dropped frame is not for a VIP (or too
 * broken to know): the hook leaves it to the stack, as the nftables diversion does. */
static __always_inline int nlb_must_discard(const struct decision* d) {
  return d->verdict == NLB_VERDICT_DROP && (d->reason == NLB_REASON_FOREIGN_VLAN || d->vip);
}

/* The whole decision for the frame in ctx, `length` bytes, counted; tagged: the hook saw a VLAN
 * tag outside the frame (tc: skb->vlan_present). 0 when the maps cannot be read (cannot happen:
 * an array always has its entries), and the frame should pass untouched. */
static __always_inline int nlb_decide_frame(NLB_CTX* ctx, __u32 length, int tagged,
                                            struct decision* d) {
  struct parsed p;
  /* Only the flags: the addresses are read only once a flag says they were written, and the
   * whole struct is 4x the flags' size (docs/bpf-data-plane.md, "What the program does"). */
  __builtin_memset(&p.l3, 0, sizeof(p) - __builtin_offsetof(struct parsed, l3));
  d->verdict = NLB_VERDICT_DROP;
  d->reason = NLB_REASON_MALFORMED;
  d->rule = -1;
  d->bucket = 0;
  d->vip = 0;
  d->parse = (__u32)nlb_parse_frame(ctx, &p);
  /* The tag the kernel (or the NIC) took out of the frame is a tag all the same. */
  if (tagged) p.has_vlan = 1;
  __u32 zero = 0;
  const struct nlb_control* control = bpf_map_lookup_elem(&nlb_control, &zero);
  if (!control) return 0;
  const __u32 half = control->active_half & 1;
  const struct nlb_config* cfg = bpf_map_lookup_elem(&nlb_config, &half);
  if (!cfg) return 0;
  decide(&p, control, cfg, half, d);

  count(&nlb_counters, d->reason < NLB_REASON_COUNT ? d->reason : NLB_REASON_MALFORMED, length);
  if (d->reason == NLB_REASON_MALFORMED && d->parse < NLB_PARSE_COUNT) {
    count(&nlb_counters, NLB_COUNTER_PARSE_BASE + d->parse, length);
  }
  if (d->rule >= 0) {
    const __u32 slot = cfg->rules[(__u32)d->rule & (NLB_MAX_RULES - 1)].counter_slot;
    count(&nlb_rule_counters, nlb_rule_counter_key(slot, d->verdict == NLB_VERDICT_ACCEPT), length);
  }
  return 1;
}

/* The NLB_CB_* words of a decision (tc: skb->cb; XDP: nlb_xdp_record, for BPF_PROG_TEST_RUN). */
static __always_inline __u32 nlb_cb_decision(const struct decision* d) {
  return d->verdict | (d->reason << 8) | (d->parse << 16);
}
