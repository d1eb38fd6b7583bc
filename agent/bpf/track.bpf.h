/* The kernel's connection tracking: DecideTracked()'s refinement (common/tracked_decision.cc) for
 * TCP under a multiple-host rule, over two LRU hash maps (docs/connection-tracking.md, "The
 * kernel table"):
 *
 *   nlb_half_open  flows whose SYN this host accepted, until their first ACK;
 *   nlb_flows      established flows: promoted by that ACK.
 *
 * A flow is *tracked* when either map holds it and its entry has not expired: the program answers
 * exactly as DescriptorTable would for a flow that Open added (a SYN-only flow is tracked there
 * too), so the two agree packet for packet; only where DescriptorTable would use an entry past
 * its timeout (the sweep has not reached it) or the LRU has evicted one do they differ, and both
 * are documented. The split exists so that a flood of spoofed SYNs evicts only half-open entries:
 * established flows are not pushed out by flows that never complete a handshake.
 *
 * Included by decide.bpf.h after struct decision; runs in the kernel per packet. */
#pragma once

#include <linux/bpf.h>

/* After linux/bpf.h, whose types it uses. */
#include <bpf/bpf_helpers.h>

#include "agent/bpf/parse.bpf.h"
#include "common/bpf/flow_key_layout.h"
#include "common/bpf/flow_table_layout.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* Sizes here are placeholders: BpfPlane::Load sets both from its options before loading. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct nlb_flow_id);
  __type(value, struct nlb_flow);
} nlb_flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, struct nlb_flow_id);
  __type(value, struct nlb_flow);
} nlb_half_open SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct nlb_flow_settings);
} nlb_flow_settings SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NLB_FLOW_COUNTER_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} nlb_flow_counters SEC(".maps");

static __always_inline void flow_count(__u32 slot) {
  __u64* c = bpf_map_lookup_elem(&nlb_flow_counters, &slot);
  if (c) *c += 1; /* per-CPU: no other writer */
}

static __always_inline int flow_expired(const struct nlb_flow* f, const struct nlb_flow_settings* s,
                                        __u64 now, __u64 open_limit) {
  const __u64 limit = f->state == NLB_FLOW_CLOSING ? s->close_delay_ns : open_limit;
  return now >= f->last_seen_ns && now - f->last_seen_ns >= limit;
}

static __always_inline void flow_refresh(struct nlb_flow* f, __u64 now, int closing) {
  f->last_seen_ns = now;
  if (closing && f->state != NLB_FLOW_CLOSING) {
    f->state = NLB_FLOW_CLOSING;
    flow_count(NLB_FLOW_CLOSED);
  }
}

/* A SYN whose connection is another host's: DescriptorTable::Remove. */
static __always_inline void flow_forget(const struct nlb_flow_id* id) {
  int gone = 0;
  if (bpf_map_delete_elem(&nlb_flows, id) == 0) {
    flow_count(NLB_FLOW_REMOVED);
    gone = 1;
  }
  if (bpf_map_delete_elem(&nlb_half_open, id) == 0) {
    flow_count(NLB_FLOW_HALF_OPEN_REMOVED);
    gone = 1;
  }
  if (gone) flow_count(NLB_FLOW_FORGOTTEN);
}

/* A SYN this host accepts: DescriptorTable::Open. A live established flow is reopened in place
 * (a retransmitted SYN, or its port reused after a close); anything else starts half-open. */
static __always_inline void flow_open(const struct nlb_flow_id* id, __u16 bucket,
                                      const struct nlb_flow_settings* s, __u64 now) {
  struct nlb_flow* f = bpf_map_lookup_elem(&nlb_flows, id);
  if (f) {
    if (!flow_expired(f, s, now, s->idle_timeout_ns)) {
      f->last_seen_ns = now;
      f->state = NLB_FLOW_OPEN;
      f->bucket = bucket;
      flow_count(NLB_FLOW_REOPENED);
      return;
    }
    if (bpf_map_delete_elem(&nlb_flows, id) == 0) {
      flow_count(NLB_FLOW_REMOVED);
      flow_count(NLB_FLOW_EXPIRED_SEEN);
    }
  }
  f = bpf_map_lookup_elem(&nlb_half_open, id);
  if (f) { /* a retransmitted SYN, or an expired half-open entry the sweep has not reached */
    flow_count(flow_expired(f, s, now, s->half_open_timeout_ns) ? NLB_FLOW_EXPIRED_SEEN
                                                                : NLB_FLOW_REOPENED);
    f->last_seen_ns = now;
    f->state = NLB_FLOW_OPEN;
    f->bucket = bucket;
    return;
  }
  struct nlb_flow v = {.last_seen_ns = now, .bucket = bucket, .state = NLB_FLOW_OPEN};
  if (bpf_map_update_elem(&nlb_half_open, id, &v, BPF_ANY) == 0) {
    flow_count(NLB_FLOW_HALF_OPEN_ADDED);
  } else {
    flow_count(NLB_FLOW_INSERT_FAILED);
  }
}

/* Any other packet of the flow: DescriptorTable::Touch. Returns 1 when the flow is tracked. */
static __always_inline int flow_touch(const struct nlb_flow_id* id, __u8 tcp_flags,
                                      const struct nlb_flow_settings* s, __u64 now) {
  const int closing = (tcp_flags & (TCP_FIN | TCP_RST)) != 0;
  struct nlb_flow* f = bpf_map_lookup_elem(&nlb_flows, id);
  if (f) {
    if (!flow_expired(f, s, now, s->idle_timeout_ns)) {
      flow_refresh(f, now, closing);
      return 1;
    }
    if (bpf_map_delete_elem(&nlb_flows, id) == 0) {
      flow_count(NLB_FLOW_REMOVED);
      flow_count(NLB_FLOW_EXPIRED_SEEN);
    }
  }
  f = bpf_map_lookup_elem(&nlb_half_open, id);
  if (!f) return 0;
  if (flow_expired(f, s, now, s->half_open_timeout_ns)) {
    if (bpf_map_delete_elem(&nlb_half_open, id) == 0) {
      flow_count(NLB_FLOW_HALF_OPEN_REMOVED);
      flow_count(NLB_FLOW_EXPIRED_SEEN);
    }
    return 0;
  }
  /* Only a plain ACK of an open half-open flow promotes it: a RST or FIN right after the SYN ends
   * the connection, which then needs no protection beyond its close delay where it is. */
  if (closing || !(tcp_flags & TCP_ACK) || f->state != NLB_FLOW_OPEN) {
    flow_refresh(f, now, closing);
    return 1;
  }
  struct nlb_flow v = {.last_seen_ns = now, .bucket = f->bucket, .state = NLB_FLOW_OPEN};
  if (bpf_map_update_elem(&nlb_flows, id, &v, BPF_ANY) != 0) {
    flow_count(NLB_FLOW_INSERT_FAILED); /* still tracked, as half-open */
    flow_refresh(f, now, 0);
    return 1;
  }
  flow_count(NLB_FLOW_ADDED);
  flow_count(NLB_FLOW_PROMOTED);
  if (bpf_map_delete_elem(&nlb_half_open, id) == 0) flow_count(NLB_FLOW_HALF_OPEN_REMOVED);
  return 1;
}

/* TrackDecision for a TCP packet with ports that Decide() gave to this host's bucket (reason
 * owned_bucket) or to another host's bucket that is moving; `flags` are the bucket's
 * NLB_BUCKET_* flags. Rewrites d's verdict and reason as TrackDecision does. A global function:
 * verified once. */
__noinline int nlb_track(const struct parsed* p, struct decision* d, __u32 flags) {
  if (!p || !d) return 0;
  __u32 zero = 0;
  const struct nlb_flow_settings* s = bpf_map_lookup_elem(&nlb_flow_settings, &zero);
  if (!s) return 0;
  struct nlb_flow_id id = {};
  __builtin_memcpy(id.client, p->src.w, 16);
  __builtin_memcpy(id.vip, p->dst.w, 16);
  id.client_port = p->src_port;
  id.vip_port = p->dst_port;
  id.rule = (__u8)d->rule;
  id.family = p->family;
  const __u64 now = bpf_ktime_get_ns();
  const int mine = d->reason == NLB_REASON_OWNED_BUCKET;
  if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
    if (mine && !(flags & NLB_BUCKET_PENDING)) {
      flow_open(&id, (__u16)d->bucket, s, now);
      return 0;
    }
    /* Pending: the old owner may be taking this one; another's bucket: a new connection is the
     * owner's. */
    flow_forget(&id);
    if (mine) {
      d->verdict = NLB_VERDICT_DROP;
      d->reason = NLB_REASON_MOVING_OTHERS_CONNECTION;
    }
    return 0;
  }
  const int tracked = flow_touch(&id, p->tcp_flags, s, now);
  if (mine) {
    if (!tracked && (flags & NLB_BUCKET_MOVING)) {
      d->verdict = NLB_VERDICT_DROP;
      d->reason = NLB_REASON_MOVING_OTHERS_CONNECTION;
    }
  } else if (tracked) {
    d->verdict = NLB_VERDICT_ACCEPT;
    d->reason = NLB_REASON_TRACKED_CONNECTION;
  }
  return 0;
}
