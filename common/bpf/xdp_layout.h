/* The XDP program's own maps (agent/bpf/nlb_xdp.bpf.c; docs/bpf-data-plane.md, "XDP"), shared
 * with user space (agent/xdp_attach.h writes the settings, tests/agent/bpf_test_run.h reads the
 * record) like the rest of flow_key_layout.h, whose types and assertion macros it uses. Plain
 * structs: any thread. */
#ifndef NLB_COMMON_BPF_XDP_LAYOUT_H_
#define NLB_COMMON_BPF_XDP_LAYOUT_H_

#include "common/bpf/flow_key_layout.h"

/* "nlb_xdp_settings", an array of one entry. XDP cannot mark a frame as one for this host (the
 * tc program's bpf_skb_change_type), so an owned frame's destination MAC becomes `mac`, the
 * interface's own, which the stack then takes as PACKET_HOST. `record` (tests only): the
 * program writes each frame's decision into "nlb_xdp_record", which BPF_PROG_TEST_RUN of an XDP
 * program cannot return otherwise (an XDP context has no cb). */
struct nlb_xdp_settings {
  nlb_u8 mac[6];
  nlb_u8 record; /* 0 in nlbd */
  nlb_u8 reserved;
};
NLB_SIZE_IS(struct nlb_xdp_settings, 8);
NLB_OFFSET_IS(struct nlb_xdp_settings, record, 6);

/* "nlb_xdp_record", an array of one entry: the last frame's NLB_CB_* words, as the tc program
 * leaves them in skb->cb. */
struct nlb_xdp_record {
  nlb_u32 cb[3];
  nlb_u32 reserved;
};
NLB_SIZE_IS(struct nlb_xdp_record, 16);

#endif /* NLB_COMMON_BPF_XDP_LAYOUT_H_ */
