/* The one copy of what the BPF data plane and user space must agree on bit for bit: the kernel's
 * jhash, the flow key per affinity, the bucket formula, the seeds (docs/hashing.md), and the
 * layout of the BPF maps' keys and values (docs/bpf-data-plane.md). Written in C so that the BPF
 * program (agent/bpf/nlb_tc.bpf.c, clang -target bpf) and common/ (C++) compile the same text;
 * every shared struct has its size and offsets asserted below, so a field moved on one side is a
 * build error, not a silent disagreement. Pure inline functions and plain structs: any thread.
 *
 * The functions avoid what the BPF verifier rejects or makes costly: no loop whose bound is not a
 * constant, no variable-offset stack access, no library call. */
#ifndef NLB_COMMON_BPF_FLOW_KEY_LAYOUT_H_
#define NLB_COMMON_BPF_FLOW_KEY_LAYOUT_H_

#if defined(__bpf__)
#include <linux/types.h>
typedef __s8 nlb_s8;
typedef __u8 nlb_u8;
typedef __u16 nlb_u16;
typedef __u32 nlb_u32;
typedef __u64 nlb_u64;
#else
#include <stdint.h>
typedef int8_t nlb_s8;
typedef uint8_t nlb_u8;
typedef uint16_t nlb_u16;
typedef uint32_t nlb_u32;
typedef uint64_t nlb_u64;
#endif

#ifdef __cplusplus
#define NLB_STATIC_ASSERT(condition, message) static_assert(condition, message)
#else
#define NLB_STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#endif
#define NLB_OFFSET_IS(type, field, offset) \
  NLB_STATIC_ASSERT(__builtin_offsetof(type, field) == (offset), #type "." #field " moved")
/* Always inlined: a BPF function call takes at most five arguments, and inlining is what makes
 * the loops' indices constants for the verifier. */
#define NLB_INLINE static inline __attribute__((always_inline))
#define NLB_SIZE_IS(type, size) NLB_STATIC_ASSERT(sizeof(type) == (size), #type " changed size")

/* ---- Hash, key and bucket: cluster protocol, hash/assignment version 2 (docs/hashing.md) ---- */

#define NLB_BUCKET_COUNT 16384u
#define NLB_FLOW_HASH_SEED 0x4e4c4231u    /* "NLB1" */
#define NLB_RULE_SEED_INITVAL 0x52554c45u /* "RULE": rule_seed(name) = jhash(name, len, this) */
#define NLB_JHASH_INITVAL 0xdeadbeefu

/* Affinity values: equal to nlb::Affinity (asserted in common/decision.cc). */
#define NLB_AFFINITY_NONE 0
#define NLB_AFFINITY_SINGLE 1
#define NLB_AFFINITY_NETWORK 2
#define NLB_IPV4_NETWORK_PREFIX 24

NLB_INLINE nlb_u32 nlb_rol32(nlb_u32 word, unsigned shift) {
  return (word << shift) | (word >> ((32u - shift) & 31u));
}

/* Words are read little-endian whatever the CPU, as the kernel's jhash does on x86 and arm64. */
NLB_INLINE nlb_u32 nlb_load_le32(const nlb_u8* p) {
  return (nlb_u32)p[0] | ((nlb_u32)p[1] << 8) | ((nlb_u32)p[2] << 16) | ((nlb_u32)p[3] << 24);
}

/* lookup3's mix() and final(), on the three state words s[0..2] = a, b, c, laid out as in
 * docs/hashing.md. */
// clang-format off
NLB_INLINE void nlb_jhash_mix(nlb_u32* s) {
  s[0] -= s[2]; s[0] ^= nlb_rol32(s[2], 4);  s[2] += s[1];
  s[1] -= s[0]; s[1] ^= nlb_rol32(s[0], 6);  s[0] += s[2];
  s[2] -= s[1]; s[2] ^= nlb_rol32(s[1], 8);  s[1] += s[0];
  s[0] -= s[2]; s[0] ^= nlb_rol32(s[2], 16); s[2] += s[1];
  s[1] -= s[0]; s[1] ^= nlb_rol32(s[0], 19); s[0] += s[2];
  s[2] -= s[1]; s[2] ^= nlb_rol32(s[1], 4);  s[1] += s[0];
}

NLB_INLINE void nlb_jhash_final(nlb_u32* s) {
  s[2] ^= s[1]; s[2] -= nlb_rol32(s[1], 14);
  s[0] ^= s[2]; s[0] -= nlb_rol32(s[2], 11);
  s[1] ^= s[0]; s[1] -= nlb_rol32(s[0], 25);
  s[2] ^= s[1]; s[2] -= nlb_rol32(s[1], 16);
  s[0] ^= s[2]; s[0] -= nlb_rol32(s[2], 4);
  s[1] ^= s[0]; s[1] -= nlb_rol32(s[0], 14);
  s[2] ^= s[1]; s[2] -= nlb_rol32(s[1], 24);
}
// clang-format on

/* The kernel's jhash(key, length, initval) over any byte string (user space: rule seeds, tests).
 * The last 1..12 bytes are added with missing bytes as zero, exactly the kernel's switch. */
NLB_INLINE nlb_u32 nlb_jhash(const nlb_u8* key, nlb_u32 length, nlb_u32 initval) {
  nlb_u32 s[3];
  s[0] = s[1] = s[2] = NLB_JHASH_INITVAL + length + initval;
  while (length > 12) {
    s[0] += nlb_load_le32(key);
    s[1] += nlb_load_le32(key + 4);
    s[2] += nlb_load_le32(key + 8);
    nlb_jhash_mix(s);
    length -= 12;
    key += 12;
  }
  if (length == 0) return s[2];
  nlb_u8 tail[12] = {0};
  for (nlb_u32 i = 0; i < length; ++i) tail[i] = key[i];
  s[0] += nlb_load_le32(tail);
  s[1] += nlb_load_le32(tail + 4);
  s[2] += nlb_load_le32(tail + 8);
  nlb_jhash_final(s);
  return s[2];
}

/* bucket = (hash * buckets) >> 32, nftables' reciprocal_scale: the top 14 bits of the hash. */
NLB_INLINE nlb_u32 nlb_bucket_of_hash(nlb_u32 hash) {
  return (nlb_u32)(((nlb_u64)hash * NLB_BUCKET_COUNT) >> 32);
}

/* A client's flow key (docs/hashing.md section 1): the source address (4 or 16 bytes), under
 * affinity none with ports followed by the source port big-endian and two zero bytes (nftables'
 * register layout of `saddr . th sport`). Bytes past `length` are zero, which is what lets
 * nlb_flow_key_hash add whole words. */
#define NLB_FLOW_KEY_CAPACITY 24
struct nlb_flow_key {
  nlb_u8 bytes[NLB_FLOW_KEY_CAPACITY];
  nlb_u32 length; /* 4, 8, 16 or 20 */
};
NLB_SIZE_IS(struct nlb_flow_key, 28);
NLB_OFFSET_IS(struct nlb_flow_key, length, 24);

/* Builds the key of `address` (16 bytes, network order; an IPv4 address in bytes 0..3 with bytes
 * 4..15 zero) under `affinity`. Network affinity clears every bit from the prefix on: /24 for
 * IPv4, ipv6_prefix for IPv6. Fragments are keyed without ports: the caller passes has_port 0. */
NLB_INLINE void nlb_flow_key_make(struct nlb_flow_key* key, const nlb_u8* address, int is_v4,
                                  int has_port, nlb_u16 port, nlb_u8 affinity, nlb_u8 ipv6_prefix) {
  int i;
  for (i = 0; i < 16; ++i) key->bytes[i] = address[i];
  for (i = 16; i < NLB_FLOW_KEY_CAPACITY; ++i) key->bytes[i] = 0;
  key->length = is_v4 ? 4 : 16;
  if (affinity == NLB_AFFINITY_NETWORK) {
    const int prefix = is_v4 ? NLB_IPV4_NETWORK_PREFIX : ipv6_prefix;
    for (i = 0; i < 16; ++i) {
      const int bits = prefix - 8 * i; /* bits of byte i that stay */
      if (bits <= 0) {
        key->bytes[i] = 0;
      } else if (bits < 8) {
        key->bytes[i] &= (nlb_u8)(0xff00u >> bits);
      }
    }
  } else if (affinity == NLB_AFFINITY_NONE && has_port) {
    /* Constant offsets in both branches: the verifier refuses variable-offset stack writes. */
    if (is_v4) {
      key->bytes[4] = (nlb_u8)(port >> 8);
      key->bytes[5] = (nlb_u8)(port & 0xff);
      key->length = 8;
    } else {
      key->bytes[16] = (nlb_u8)(port >> 8);
      key->bytes[17] = (nlb_u8)(port & 0xff);
      key->length = 20;
    }
  }
}

/* jhash(key->bytes, key->length, NLB_FLOW_HASH_SEED) without a loop: a key of 4..24 bytes is at
 * most two 12-byte blocks, and its zero padding stands for the missing tail bytes. */
NLB_INLINE nlb_u32 nlb_flow_key_hash(const struct nlb_flow_key* key) {
  nlb_u32 s[3];
  s[0] = s[1] = s[2] = NLB_JHASH_INITVAL + key->length + NLB_FLOW_HASH_SEED;
  s[0] += nlb_load_le32(key->bytes);
  s[1] += nlb_load_le32(key->bytes + 4);
  s[2] += nlb_load_le32(key->bytes + 8);
  if (key->length > 12) {
    nlb_jhash_mix(s);
    s[0] += nlb_load_le32(key->bytes + 12);
    s[1] += nlb_load_le32(key->bytes + 16);
    s[2] += nlb_load_le32(key->bytes + 20);
  }
  nlb_jhash_final(s);
  return s[2];
}

/* ---- The BPF maps (docs/bpf-data-plane.md) ---- */

#define NLB_MAX_RULES 64 /* port rules per map half */
#define NLB_MAX_VIPS 16
#define NLB_HALVES 2

/* Rule fields: equal to nlb::Protocol, nlb::FilteringMode (asserted in common/decision.cc). */
#define NLB_PROTOCOL_TCP 0
#define NLB_PROTOCOL_UDP 1
#define NLB_PROTOCOL_BOTH 2
#define NLB_MODE_MULTIPLE 0
#define NLB_MODE_SINGLE 1
#define NLB_MODE_DISABLED 2
#define NLB_FAMILY_ALL 0 /* a rule for every VIP */
#define NLB_FAMILY_V4 4
#define NLB_FAMILY_V6 6

/* One port rule in force. Order in nlb_config.rules is the snapshot's: VIP-specific first. */
struct nlb_rule {
  nlb_u8 vip[16];     /* network order; IPv4 in bytes 0..3, the rest zero */
  nlb_u8 vip_family;  /* NLB_FAMILY_*; NLB_FAMILY_ALL: every VIP */
  nlb_u8 protocol;    /* NLB_PROTOCOL_* */
  nlb_u8 mode;        /* NLB_MODE_* */
  nlb_u8 affinity;    /* NLB_AFFINITY_* */
  nlb_u8 ipv6_prefix; /* network affinity on IPv6 */
  nlb_u8 enabled;     /* 0: disabled at run time (nlbctl disable) */
  nlb_u16 first_port;
  nlb_u16 last_port;
  nlb_u16 single_owner; /* single-host rules: the owner's host id (0: nobody) */
  nlb_u8 has_buckets;   /* multiple-host rules: 0 while no owners are assigned (accepts nothing) */
  nlb_u8 counter_slot;  /* its figures in nlb_rule_counters (common/bpf/rule_counter_layout.h) */
  nlb_u8 reserved[2];
};
NLB_SIZE_IS(struct nlb_rule, 32);
NLB_OFFSET_IS(struct nlb_rule, vip_family, 16);
NLB_OFFSET_IS(struct nlb_rule, first_port, 22);
NLB_OFFSET_IS(struct nlb_rule, last_port, 24);
NLB_OFFSET_IS(struct nlb_rule, single_owner, 26);
NLB_OFFSET_IS(struct nlb_rule, has_buckets, 28);
NLB_OFFSET_IS(struct nlb_rule, counter_slot, 29);

struct nlb_vip {
  nlb_u8 address[16];
  nlb_u8 family; /* NLB_FAMILY_V4 or NLB_FAMILY_V6 */
  nlb_u8 reserved[3];
};
NLB_SIZE_IS(struct nlb_vip, 20);
NLB_OFFSET_IS(struct nlb_vip, family, 16);

/* One half of the double-buffered map: everything but the bucket owners. Map "nlb_config", an
 * array of NLB_HALVES entries. */
struct nlb_config {
  nlb_u16 local_host_id;   /* 0 before this host has an id: it accepts nothing */
  nlb_u16 default_host_id; /* takes traffic to a VIP that no rule covers */
  nlb_u8 serving;          /* 0: stopped or not converged */
  nlb_u8 vip_count;        /* <= NLB_MAX_VIPS */
  nlb_u8 rule_count;       /* <= NLB_MAX_RULES */
  nlb_u8 reserved;
  nlb_u64 generation; /* the MapSnapshot generation this half was written from */
  struct nlb_vip vips[NLB_MAX_VIPS];
  /* Fragments: the rule of every piece to vips[v] of protocol TCP [v][0] or UDP [v][1], -1 for
   * none; computed by the loader with Decide's own FragmentRuleIndex, so the program needs no
   * search whose state the verifier would have to follow. */
  nlb_s8 fragment_rule[NLB_MAX_VIPS][2];
  struct nlb_rule rules[NLB_MAX_RULES];
};
NLB_OFFSET_IS(struct nlb_config, serving, 4);
NLB_OFFSET_IS(struct nlb_config, rule_count, 6);
NLB_OFFSET_IS(struct nlb_config, generation, 8);
NLB_OFFSET_IS(struct nlb_config, vips, 16);
NLB_OFFSET_IS(struct nlb_config, fragment_rule, 16 + 20 * NLB_MAX_VIPS);
NLB_OFFSET_IS(struct nlb_config, rules, 16 + 22 * NLB_MAX_VIPS);
NLB_SIZE_IS(struct nlb_config, 16 + 22 * NLB_MAX_VIPS + 32 * NLB_MAX_RULES);

/* One bucket of one rule. */
#define NLB_BUCKET_MOVING 0x01  /* connections in it move (docs/connection-tracking.md) */
#define NLB_BUCKET_PENDING 0x02 /* owned, just gained: the old owner may still take SYNs */
struct nlb_bucket {
  nlb_u16 owner; /* host id; 0: nobody */
  nlb_u8 flags;  /* NLB_BUCKET_* */
  nlb_u8 reserved;
};
NLB_SIZE_IS(struct nlb_bucket, 4);
NLB_OFFSET_IS(struct nlb_bucket, flags, 2);

/* All buckets of one rule in one half: the value of map "nlb_buckets", an array of
 * NLB_HALVES * NLB_MAX_RULES entries keyed by nlb_buckets_key(). One lookup per packet, and a
 * whole rule is one contiguous 64 KiB block in the loader's mapping. */
struct nlb_rule_buckets {
  struct nlb_bucket bucket[NLB_BUCKET_COUNT];
};
NLB_SIZE_IS(struct nlb_rule_buckets, 4 * NLB_BUCKET_COUNT);

NLB_INLINE nlb_u32 nlb_buckets_key(nlb_u32 half, nlb_u32 rule) {
  return half * NLB_MAX_RULES + rule;
}

/* Map "nlb_control", one entry: which half is in force, and the lease. Written by one
 * bpf_map_update_elem, so a map switch is one system call after the inactive half is written. */
struct nlb_control {
  nlb_u32 active_half; /* 0 or 1 */
  nlb_u32 reserved;
  nlb_u64 lease_until_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns); past it: not serving */
};
NLB_SIZE_IS(struct nlb_control, 16);
NLB_OFFSET_IS(struct nlb_control, lease_until_ns, 8);

/* Decision codes: equal to nlb::Verdict, nlb::DecisionReason, nlb::ParseVerdict (asserted in
 * common/decision.cc). */
#define NLB_VERDICT_ACCEPT 0
#define NLB_VERDICT_DROP 1
#define NLB_VERDICT_NEIGHBOUR 2

#define NLB_REASON_OWNED_BUCKET 0
#define NLB_REASON_SINGLE_HOST_OWNER 1
#define NLB_REASON_DEFAULT_HOST 2
#define NLB_REASON_NEIGHBOUR_REQUEST 3
#define NLB_REASON_OTHER_HOSTS_BUCKET 4
#define NLB_REASON_OTHER_SINGLE_HOST 5
#define NLB_REASON_OTHER_DEFAULT_HOST 6
#define NLB_REASON_RULE_DISABLED 7
#define NLB_REASON_NOT_SERVING 8
#define NLB_REASON_NOT_FOR_VIP 9
#define NLB_REASON_MALFORMED 10
#define NLB_REASON_TRACKED_CONNECTION 11
#define NLB_REASON_MOVING_OTHERS_CONNECTION 12
#define NLB_REASON_FOREIGN_VLAN 13
#define NLB_REASON_COUNT 14

#define NLB_PARSE_OK 0
#define NLB_PARSE_TRUNCATED_ETHERNET 1
#define NLB_PARSE_TRUNCATED_VLAN 2
#define NLB_PARSE_UNSUPPORTED_ETHERTYPE 3
#define NLB_PARSE_TRUNCATED_ARP 4
#define NLB_PARSE_UNSUPPORTED_ARP 5
#define NLB_PARSE_TRUNCATED_IPV4 6
#define NLB_PARSE_BAD_IPV4_VERSION 7
#define NLB_PARSE_BAD_IPV4_HEADER_LENGTH 8
#define NLB_PARSE_BAD_IPV4_TOTAL_LENGTH 9
#define NLB_PARSE_TRUNCATED_IPV6 10
#define NLB_PARSE_BAD_IPV6_VERSION 11
#define NLB_PARSE_BAD_IPV6_PAYLOAD_LENGTH 12
#define NLB_PARSE_BAD_IPV6_EXTENSION_HEADER 13
#define NLB_PARSE_TRUNCATED_TCP 14
#define NLB_PARSE_BAD_TCP_HEADER_LENGTH 15
#define NLB_PARSE_TRUNCATED_UDP 16
#define NLB_PARSE_TRUNCATED_ICMP 17
#define NLB_PARSE_COUNT 18

/* Map "nlb_counters", a per-CPU array: slot r < NLB_REASON_COUNT counts decisions by reason;
 * slot NLB_COUNTER_PARSE_BASE + v counts malformed frames by parse verdict v. */
#define NLB_COUNTER_PARSE_BASE 16
#define NLB_COUNTER_SLOTS (NLB_COUNTER_PARSE_BASE + NLB_PARSE_COUNT)
struct nlb_counter {
  nlb_u64 packets;
  nlb_u64 bytes;
};
NLB_SIZE_IS(struct nlb_counter, 16);

/* What the program leaves in skb->cb for BPF_PROG_TEST_RUN (the agreement test reads it back
 * through ctx_out): cb[0] = verdict | reason << 8 | parse << 16, cb[1] = bucket,
 * cb[2] = rule index + 1 (0: no rule). */
#define NLB_CB_DECISION 0
#define NLB_CB_BUCKET 1
#define NLB_CB_RULE 2

#endif /* NLB_COMMON_BPF_FLOW_KEY_LAYOUT_H_ */
