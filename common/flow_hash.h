// Flow hashing: the client key -> 32-bit hash -> bucket. Part of the cluster protocol
// (docs/hashing.md): every host, and any later data path (an XDP program, an nftables rule), must
// agree bit for bit, which tests/common/flow_hash_test.cc pins with golden vectors.
//
// The hash is the Linux kernel's jhash() over bytes (the function nftables' `jhash` expression
// uses), words read little-endian, with bucket = (hash * kBucketCount) >> 32 as nftables'
// reciprocal_scale() does. The key bytes follow nftables' register layout for
// `ip saddr . th sport`: the source address, then the port in network order padded with two zero
// bytes to a 4-byte register. The C++ face of common/bpf/flow_key_layout.h, the one copy of all
// this that the BPF data plane compiles too. Pure functions, safe from any thread.
#pragma once

#include <cstdint>

#include "common/bpf/flow_key_layout.h"
#include "common/ip_address.h"
#include "common/port_rule.h"

namespace nlb {

// 16384 buckets: with 64 equal hosts each owns 256 buckets, so the one-bucket rounding of the
// assignment is under 0.4% of a host's quota (the goal is 1%).
// The values live in common/bpf/flow_key_layout.h, the one copy the BPF program shares.
inline constexpr uint32_t kBucketCount = NLB_BUCKET_COUNT;
inline constexpr uint32_t kFlowHashSeed = NLB_FLOW_HASH_SEED;  // "NLB1"
static_assert(kBucketCount == 16384 && kFlowHashSeed == 0x4e4c4231, "hash protocol version 2");

// The kernel's jhash(key, length, initval).
inline uint32_t Jhash(const uint8_t* key, uint32_t length, uint32_t initval) {
  return nlb_jhash(key, length, initval);
}

inline uint32_t BucketOfHash(uint32_t hash) { return nlb_bucket_of_hash(hash); }

// The hash of a client under a rule's affinity:
//   kNone:    source address . source port (when has_port; else address alone)
//   kSingle:  source address
//   kNetwork: source address masked to /24 (IPv4) or ipv6_prefix bits (IPv6)
// The key layout and the hash are nlb_flow_key_make and nlb_flow_key_hash, which the BPF program
// runs too. REQUIRES: source is v4 or v6.
inline uint32_t FlowHash(const IpAddress& source, bool has_port, uint16_t source_port,
                         Affinity affinity, uint8_t ipv6_prefix) {
  nlb_flow_key key;
  nlb_flow_key_make(&key, source.bytes.data(), source.is_v4(), has_port, source_port,
                    static_cast<uint8_t>(affinity), ipv6_prefix);
  return nlb_flow_key_hash(&key);
}

}  // namespace nlb
