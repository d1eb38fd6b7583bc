/* The kernel connection table's map layouts, shared by the BPF program (agent/bpf/track.bpf.h)
 * and user space (agent/bpf_flow_table.h) like the rest of flow_key_layout.h, whose types and
 * assertion macros it uses: every struct's size and offsets are asserted, so a field moved on one
 * side is a build error. Plain structs and numbers: any thread. */
#ifndef NLB_COMMON_BPF_FLOW_TABLE_LAYOUT_H_
#define NLB_COMMON_BPF_FLOW_TABLE_LAYOUT_H_

#include "common/bpf/flow_key_layout.h"

/* Two LRU hash maps with one key and one value layout: "nlb_flows" holds established flows (the
 * DescriptorTable's flows), "nlb_half_open" the flows whose SYN this host accepted and whose
 * first ACK it has not seen yet. The first non-SYN packet with ACK (and without FIN/RST) of a
 * half-open flow promotes it, so spoofed SYNs churn only the smaller half-open map
 * (docs/connection-tracking.md, "The kernel table"). */

/* Key: DescriptorTable's FlowKey (rule index, client address and port, VIP and port). */
struct nlb_flow_id {
  nlb_u8 client[16]; /* network order; IPv4 in bytes 0..3, the rest zero */
  nlb_u8 vip[16];
  nlb_u16 client_port; /* host order */
  nlb_u16 vip_port;
  nlb_u8 rule;   /* index in the map half in force; follows renumbering (BpfFlowTable) */
  nlb_u8 family; /* NLB_FAMILY_V4 / V6 */
  nlb_u8 reserved[2];
};
NLB_SIZE_IS(struct nlb_flow_id, 40);
NLB_OFFSET_IS(struct nlb_flow_id, client_port, 32);
NLB_OFFSET_IS(struct nlb_flow_id, rule, 36);
NLB_OFFSET_IS(struct nlb_flow_id, family, 37);

#define NLB_FLOW_OPEN 1
#define NLB_FLOW_CLOSING 2 /* FIN or RST seen: kept close_delay after the last packet */
struct nlb_flow {
  nlb_u64 last_seen_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) of the last packet */
  nlb_u16 bucket;       /* the bucket of the rule's affinity key when the SYN was accepted */
  nlb_u8 state;         /* NLB_FLOW_* */
  nlb_u8 reserved[5];
};
NLB_SIZE_IS(struct nlb_flow, 16);
NLB_OFFSET_IS(struct nlb_flow, bucket, 8);
NLB_OFFSET_IS(struct nlb_flow, state, 10);

/* Map "nlb_flow_settings", one entry, written once at load: when an entry stops counting. An
 * entry past its limit is not tracked, whether or not the sweep has removed it yet. */
struct nlb_flow_settings {
  nlb_u64 idle_timeout_ns;      /* an open established flow */
  nlb_u64 close_delay_ns;       /* a closing flow, established or half-open */
  nlb_u64 half_open_timeout_ns; /* a half-open flow whose handshake does not complete */
};
NLB_SIZE_IS(struct nlb_flow_settings, 24);

/* Map "nlb_flow_counters", a per-CPU array: what the program did to the two flow maps. Only
 * insertions of a new key and deletions that found their key count, so that (added - removed -
 * swept - present) is what the LRU evicted (BpfFlowTable computes it). */
#define NLB_FLOW_HALF_OPEN_ADDED 0   /* a SYN of a new flow */
#define NLB_FLOW_HALF_OPEN_REMOVED 1 /* promoted, forgotten by a SYN, or found expired */
#define NLB_FLOW_ADDED 2             /* promoted into nlb_flows */
#define NLB_FLOW_REMOVED 3           /* forgotten by a SYN, or found expired */
#define NLB_FLOW_PROMOTED 4          /* the handshake's ACK: half-open -> established */
#define NLB_FLOW_REOPENED 5          /* a SYN of a tracked flow (retransmission, port reuse) */
#define NLB_FLOW_CLOSED 6            /* FIN or RST marked a flow closing */
#define NLB_FLOW_FORGOTTEN 7         /* a SYN the owner must take: the flow is not ours */
#define NLB_FLOW_EXPIRED_SEEN 8      /* a packet found its entry expired: not tracked, removed */
#define NLB_FLOW_INSERT_FAILED 9     /* a map update failed: the flow is not tracked */
#define NLB_FLOW_COUNTER_SLOTS 10

#endif /* NLB_COMMON_BPF_FLOW_TABLE_LAYOUT_H_ */
