/* The BPF twin of common/packet.cc's ParseFrame: the same checks in the same order, so that every
 * frame gets the same parse verdict (docs/packet-parsing.md). It reads the frame through the
 * including program's context abstraction (decide.bpf.h: nlb_ctx_load_bytes, i.e.
 * bpf_skb_load_bytes or bpf_xdp_load_bytes) at offsets it has bounds-checked against
 * nlb_ctx_length(ctx) first, which works on non-linear skbs too and keeps the verifier out of
 * packet-pointer arithmetic. Included by decide.bpf.h only; runs in the kernel per packet. */
#pragma once

#include <linux/bpf.h>

/* After linux/bpf.h, whose types it uses. */
#include <bpf/bpf_helpers.h>

#include "common/bpf/flow_key_layout.h"

#define ETH_HEADER 14
#define VLAN_TAG 4
#define MAX_VLAN_TAGS 2
#define ARP_FIXED_HEADER 8
#define ARP_ETHERNET_IPV4 28
#define IPV4_MIN_HEADER 20
#define IPV6_HEADER 40
#define TCP_MIN_HEADER 20
#define UDP_HEADER 8
#define ICMP_MIN_HEADER 4
#define NEIGHBOUR_SOLICITATION 24
#define IPV6_FRAGMENT_HEADER 8
#define MAX_IPV6_EXTENSION_HEADERS 8

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define ICMPV6_NEIGHBOUR_SOLICITATION 135

enum l3_kind { L3_NONE = 0, L3_ARP, L3_IPV4, L3_IPV6 };

/* Words, not bytes: stack accesses must be aligned, and addresses are compared a word at a
 * time. A struct of scalars (not a union) so that global functions may take it (BTF rules). */
struct address {
  __u32 w[4];
};

/* The addresses come first and are not zeroed per frame (nlb_ingress zeroes from l3 on): src and
 * dst are read only when dst_set is (every parse that sets it writes both whole), nd_target only
 * when has_nd_target is. A field that may be read unwritten belongs after l3. */
struct parsed {
  struct address src;
  struct address dst;
  struct address nd_target;
  __u8 l3;     /* enum l3_kind */
  __u8 family; /* NLB_FAMILY_V4 / V6 of src and dst (ARP: V4) */
  __u8 dst_set;
  __u8 ip_protocol;
  __u8 is_fragment;
  __u8 has_ports;
  __u8 tcp_flags;
  __u8 has_nd_target;
  __u16 arp_operation;
  __u16 src_port;
  __u16 dst_port;
  __u8 has_vlan; /* a tag in the frame, or (the tc program) in skb metadata */
};
_Static_assert(__builtin_offsetof(struct parsed, l3) == 3 * sizeof(struct address),
               "the addresses, which are not zeroed per frame, come first");

static __always_inline __u16 be16(const __u8* p) { return (__u16)((p[0] << 8) | p[1]); }

static __always_inline void copy_v4(struct address* a, const __u8* p) {
  __u8* b = (__u8*)a->w;
  a->w[1] = 0;
  a->w[2] = 0;
  a->w[3] = 0;
  b[0] = p[0];
  b[1] = p[1];
  b[2] = p[2];
  b[3] = p[3];
}

/* The upper-layer header at `at`, `length` bytes inside the IP length. */
static __always_inline int parse_transport(NLB_CTX* ctx, __u32 at, __u32 length, int ipv6,
                                           struct parsed* out) {
  __u8 h[NEIGHBOUR_SOLICITATION];
  switch (out->ip_protocol) {
    case PROTO_TCP:
      if (length < TCP_MIN_HEADER) return NLB_PARSE_TRUNCATED_TCP;
      if (nlb_ctx_load_bytes(ctx, at, h, TCP_MIN_HEADER) < 0) return NLB_PARSE_TRUNCATED_TCP;
      {
        const __u32 header = (__u32)(h[12] >> 4) * 4;
        if (header < TCP_MIN_HEADER || header > length) return NLB_PARSE_BAD_TCP_HEADER_LENGTH;
      }
      out->src_port = be16(h);
      out->dst_port = be16(h + 2);
      out->tcp_flags = h[13];
      out->has_ports = 1;
      return NLB_PARSE_OK;
    case PROTO_UDP:
      if (length < UDP_HEADER) return NLB_PARSE_TRUNCATED_UDP;
      if (nlb_ctx_load_bytes(ctx, at, h, UDP_HEADER) < 0) return NLB_PARSE_TRUNCATED_UDP;
      out->src_port = be16(h);
      out->dst_port = be16(h + 2);
      out->has_ports = 1;
      return NLB_PARSE_OK;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      /* ICMP belongs to IPv4 and ICMPv6 to IPv6; the other number is just an unknown protocol. */
      if ((out->ip_protocol == PROTO_ICMPV6) != ipv6) return NLB_PARSE_OK;
      if (length < ICMP_MIN_HEADER) return NLB_PARSE_TRUNCATED_ICMP;
      if (!ipv6 || length < NEIGHBOUR_SOLICITATION) return NLB_PARSE_OK;
      if (nlb_ctx_load_bytes(ctx, at, h, NEIGHBOUR_SOLICITATION) < 0)
        return NLB_PARSE_TRUNCATED_ICMP;
      if (h[0] == ICMPV6_NEIGHBOUR_SOLICITATION) {
        __builtin_memcpy(out->nd_target.w, h + 8, 16);
        out->has_nd_target = 1;
      }
      return NLB_PARSE_OK;
    default:
      return NLB_PARSE_OK;
  }
}

static __always_inline int parse_arp(NLB_CTX* ctx, __u32 at, __u32 length, struct parsed* out) {
  __u8 h[ARP_ETHERNET_IPV4];
  if (length < ARP_FIXED_HEADER) return NLB_PARSE_TRUNCATED_ARP;
  if (nlb_ctx_load_bytes(ctx, at, h, ARP_FIXED_HEADER) < 0) return NLB_PARSE_TRUNCATED_ARP;
  if (be16(h) != 1 || be16(h + 2) != 0x0800 || h[4] != 6 || h[5] != 4) {
    return NLB_PARSE_UNSUPPORTED_ARP;
  }
  if (length < ARP_ETHERNET_IPV4) return NLB_PARSE_TRUNCATED_ARP;
  if (nlb_ctx_load_bytes(ctx, at, h, ARP_ETHERNET_IPV4) < 0) return NLB_PARSE_TRUNCATED_ARP;
  out->arp_operation = be16(h + 6);
  out->family = NLB_FAMILY_V4;
  copy_v4(&out->src, h + 14);
  copy_v4(&out->dst, h + 24);
  out->dst_set = 1;
  return NLB_PARSE_OK;
}

static __always_inline int parse_ipv4(NLB_CTX* ctx, __u32 at, __u32 length, struct parsed* out) {
  __u8 h[IPV4_MIN_HEADER];
  if (length < IPV4_MIN_HEADER) return NLB_PARSE_TRUNCATED_IPV4;
  if (nlb_ctx_load_bytes(ctx, at, h, IPV4_MIN_HEADER) < 0) return NLB_PARSE_TRUNCATED_IPV4;
  if ((h[0] >> 4) != 4) return NLB_PARSE_BAD_IPV4_VERSION;
  const __u32 header = (__u32)(h[0] & 0x0f) * 4;
  if (header < IPV4_MIN_HEADER) return NLB_PARSE_BAD_IPV4_HEADER_LENGTH;
  if (header > length) return NLB_PARSE_TRUNCATED_IPV4;
  const __u32 total = be16(h + 2);
  if (total < header || total > length) return NLB_PARSE_BAD_IPV4_TOTAL_LENGTH;

  out->ip_protocol = h[9];
  out->family = NLB_FAMILY_V4;
  copy_v4(&out->src, h + 12);
  copy_v4(&out->dst, h + 16);
  out->dst_set = 1;
  const __u16 fragment = be16(h + 6);
  const __u16 offset = fragment & 0x1fff;
  out->is_fragment = (fragment & 0x2000) != 0 || offset != 0;
  if (offset != 0) return NLB_PARSE_OK; /* no upper-layer header in this piece */
  return parse_transport(ctx, at + header, total - header, 0, out);
}

static __always_inline int parse_ipv6(NLB_CTX* ctx, __u32 at, __u32 length, struct parsed* out) {
  __u8 h[IPV6_HEADER];
  if (length < IPV6_HEADER) return NLB_PARSE_TRUNCATED_IPV6;
  if (nlb_ctx_load_bytes(ctx, at, h, IPV6_HEADER) < 0) return NLB_PARSE_TRUNCATED_IPV6;
  if ((h[0] >> 4) != 6) return NLB_PARSE_BAD_IPV6_VERSION;
  const __u32 end = IPV6_HEADER + be16(h + 4);
  if (end > length) return NLB_PARSE_BAD_IPV6_PAYLOAD_LENGTH;

  out->family = NLB_FAMILY_V6;
  __builtin_memcpy(out->src.w, h + 8, 16);
  __builtin_memcpy(out->dst.w, h + 24, 16);
  out->dst_set = 1;
  __u8 next = h[6];
  __u32 pos = IPV6_HEADER; /* within the IPv6 packet; pos <= end throughout */
  __u8 e[8];
  for (int count = 0; count <= MAX_IPV6_EXTENSION_HEADERS; ++count) {
    const int generic = next == 0 || next == 43 || next == 60;
    if (!generic && next != 44) break;
    if (count == MAX_IPV6_EXTENSION_HEADERS) return NLB_PARSE_BAD_IPV6_EXTENSION_HEADER;
    if (end - pos < 8) return NLB_PARSE_BAD_IPV6_EXTENSION_HEADER;
    if (nlb_ctx_load_bytes(ctx, at + pos, e, 8) < 0) return NLB_PARSE_BAD_IPV6_EXTENSION_HEADER;
    if (generic) {
      const __u32 size = ((__u32)e[1] + 1) * 8;
      if (size > end - pos) return NLB_PARSE_BAD_IPV6_EXTENSION_HEADER;
      next = e[0];
      pos += size;
      continue;
    }
    /* Fragment header: what follows belongs to the fragmentable part, which only the first
     * piece carries, so parsing stops here and every piece reports the same protocol. */
    out->is_fragment = 1;
    out->ip_protocol = e[0];
    if ((be16(e + 2) >> 3) != 0) return NLB_PARSE_OK;
    return parse_transport(ctx, at + pos + IPV6_FRAGMENT_HEADER, end - pos - IPV6_FRAGMENT_HEADER,
                           1, out);
  }
  out->ip_protocol = next;
  return parse_transport(ctx, at + pos, end - pos, 1, out);
}

/* Returns an NLB_PARSE_* verdict; *out holds what was parsed before a problem. A global
 * function: the verifier checks it once, not once per path of its caller. */
__noinline int nlb_parse_frame(NLB_CTX* ctx, struct parsed* out) {
  if (!out) return NLB_PARSE_TRUNCATED_ETHERNET;
  const __u32 size = nlb_ctx_length(ctx);
  __u8 h[ETH_HEADER];
  if (size < ETH_HEADER) return NLB_PARSE_TRUNCATED_ETHERNET;
  if (nlb_ctx_load_bytes(ctx, 0, h, ETH_HEADER) < 0) return NLB_PARSE_TRUNCATED_ETHERNET;
  __u16 ethertype = be16(h + 12);
  __u32 at = ETH_HEADER;
  for (int tags = 0; tags < MAX_VLAN_TAGS; ++tags) {
    if (ethertype != 0x8100 && ethertype != 0x88a8) break;
    if (size - at < VLAN_TAG) return NLB_PARSE_TRUNCATED_VLAN;
    if (nlb_ctx_load_bytes(ctx, at, h, VLAN_TAG) < 0) return NLB_PARSE_TRUNCATED_VLAN;
    ethertype = be16(h + 2);
    at += VLAN_TAG;
    out->has_vlan = 1;
  }
  switch (ethertype) {
    case 0x0800:
      out->l3 = L3_IPV4;
      return parse_ipv4(ctx, at, size - at, out);
    case 0x86dd:
      out->l3 = L3_IPV6;
      return parse_ipv6(ctx, at, size - at, out);
    case 0x0806:
      out->l3 = L3_ARP;
      return parse_arp(ctx, at, size - at, out);
    default:
      return NLB_PARSE_UNSUPPORTED_ETHERTYPE; /* a third VLAN tag included */
  }
}
