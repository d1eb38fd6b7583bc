/* The sender's XDP program of tests/bench/xdp_live_flood.cc (datapath_bench.sh xdp-live). The
 * tool runs it with BPF_PROG_TEST_RUN in live-frames mode: the kernel feeds it frames from a
 * page pool of its own, initialised once per page from the tool's 60-byte UDP frame, and sends
 * what it redirects. Per frame it writes the header back (a receiver's XDP program may have
 * changed it in the same page: nlbd's rewrites the destination MAC of a frame it accepts, and
 * the page comes back to this pool once the receiver is done with it), gives the frame the next
 * of `flows` source ports (a per-CPU counter: the tool runs it on one CPU), and returns
 * XDP_REDIRECT to `ifindex`: a veth whose peer then receives the frame as an xdp_frame through
 * veth's ndo_xdp_xmit, with no skb and no copy. With `flows` 0 (the tool's --redirect mode:
 * attached natively to another veth) it only redirects each frame to `ifindex`, untouched.
 * Build: clang -target bpf -O2 -g (tests/bench/CMakeLists.txt). */
#include <linux/bpf.h>

/* After linux/bpf.h, whose types it uses. */
#include <bpf/bpf_helpers.h>

#define XDP_LIVE_HEADER_BYTES 42 /* Ethernet 14 + IPv4 20 + UDP 8 */

char LICENSE[] SEC("license") = "GPL";

/* "xdp_live_config", an array of one entry, written by the tool before the first run. The
 * layout is the tool's struct LiveConfig (xdp_live_flood.cc), which static_asserts its size. */
struct live_config {
  __u8 header[XDP_LIVE_HEADER_BYTES];
  __u16 first_port; /* host order: the first source port; the flows' ports follow it */
  __u32 flows;
  __u32 ifindex;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct live_config);
} xdp_live_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} xdp_live_next SEC(".maps");

SEC("xdp")
int xdp_live_send(struct xdp_md* ctx) {
  __u8* data = (__u8*)(long)ctx->data;
  __u8* end = (__u8*)(long)ctx->data_end;
  __u32 zero = 0;
  struct live_config* config = bpf_map_lookup_elem(&xdp_live_config, &zero);
  __u64* next = bpf_map_lookup_elem(&xdp_live_next, &zero);
  if (config == 0 || next == 0) return XDP_ABORTED;
  /* --redirect: attached to a veth, passing on frames that already carry their ports. */
  if (config->flows == 0) return bpf_redirect(config->ifindex, 0);
  if (data + XDP_LIVE_HEADER_BYTES > end) return XDP_ABORTED;
  __builtin_memcpy(data, config->header, XDP_LIVE_HEADER_BYTES);
  /* The UDP checksum is 0 (none), so nothing else in the frame depends on the port. */
  __u16 port = (__u16)(config->first_port + (__u16)(*next % config->flows));
  *next += 1;
  data[34] = (__u8)(port >> 8); /* the UDP source port, after Ethernet and IPv4 headers */
  data[35] = (__u8)(port & 0xff);
  return bpf_redirect(config->ifindex, 0);
}
