/* STUB until the decision moves into a shared header: passes everything. */
#include "agent/bpf/nlb_tc.bpf.c"
#include "common/bpf/xdp_layout.h"

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
  (void)ctx;
  return XDP_PASS;
}
