// Pins the flow hash of hash/assignment version 1 (docs/hashing.md): the kernel jhash, the key
// layout per affinity, and the bucket scaling. Any change to these numbers splits a cluster
// whose hosts run different releases, so a failure here is a protocol change, not a test to fix.
#include "common/flow_hash.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string_view>
#include <vector>

namespace nlb {
namespace {

std::vector<uint8_t> PatternKey(uint32_t length) {
  std::vector<uint8_t> key(length);
  for (uint32_t i = 0; i < length; ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  return key;
}

IpAddress Ip(std::string_view text) {
  auto parsed = IpAddress::Parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(IpAddress{});
}

// A second jhash, written from Bob Jenkins' description of lookup3's hashlittle() rather than
// from flow_hash.cc: the key is zero-padded to whole 12-byte blocks, every block but the last is
// mixed, the last is added and finalised (a zero-length key returns c untouched).
uint32_t Rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

uint32_t ReferenceJhash(const std::vector<uint8_t>& key, uint32_t initval) {
  uint32_t a = 0xdeadbeef + static_cast<uint32_t>(key.size()) + initval;
  uint32_t b = a;
  uint32_t c = a;
  if (key.empty()) return c;
  std::vector<uint8_t> padded = key;
  padded.resize((key.size() + 11) / 12 * 12, 0);
  std::vector<uint32_t> words(padded.size() / 4, 0);
  for (size_t i = 0; i < padded.size(); ++i) words[i / 4] |= uint32_t{padded[i]} << (8 * (i % 4));
  const size_t blocks = words.size() / 3;
  for (size_t blk = 0; blk < blocks; ++blk) {
    a += words[3 * blk];
    b += words[3 * blk + 1];
    c += words[3 * blk + 2];
    if (blk + 1 == blocks) break;
    a -= c;
    a ^= Rotl(c, 4);
    c += b;
    b -= a;
    b ^= Rotl(a, 6);
    a += c;
    c -= b;
    c ^= Rotl(b, 8);
    b += a;
    a -= c;
    a ^= Rotl(c, 16);
    c += b;
    b -= a;
    b ^= Rotl(a, 19);
    a += c;
    c -= b;
    c ^= Rotl(b, 4);
    b += a;
  }
  c ^= b;
  c -= Rotl(b, 14);
  a ^= c;
  a -= Rotl(c, 11);
  b ^= a;
  b -= Rotl(a, 25);
  c ^= b;
  c -= Rotl(b, 16);
  a ^= c;
  a -= Rotl(c, 4);
  b ^= a;
  b -= Rotl(a, 14);
  c ^= b;
  c -= Rotl(b, 24);
  return c;
}

TEST(JhashTest, PublishedLookup3Vectors) {
  // The kernel's jhash is lookup3's hashlittle() on little-endian hosts; these are the values
  // printed by driver5() in Bob Jenkins' lookup3.c.
  const std::string_view text = "Four score and seven years ago";
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  EXPECT_EQ(Jhash(bytes, 0, 0), 0xdeadbeefu);
  EXPECT_EQ(Jhash(bytes, 30, 0), 0x17770551u);
  EXPECT_EQ(Jhash(bytes, 30, 1), 0xcd628161u);
  // The same values prove the second implementation below, which the golden vectors lean on.
  const std::vector<uint8_t> key(bytes, bytes + text.size());
  EXPECT_EQ(ReferenceJhash({}, 0), 0xdeadbeefu);
  EXPECT_EQ(ReferenceJhash(key, 0), 0x17770551u);
  EXPECT_EQ(ReferenceJhash(key, 1), 0xcd628161u);
}

TEST(JhashTest, GoldenVectors) {
  struct Case {
    uint32_t length;
    uint32_t initval;
    uint32_t expected;
  };
  const Case cases[] = {
      {0, kFlowHashSeed, 0x2cfa0120u},
      {1, kFlowHashSeed, 0xeeb13a23u},
      {4, kFlowHashSeed, 0x9ed3125fu},
      {8, kFlowHashSeed, 0xae2d6812u},
      {12, kFlowHashSeed, 0x11cb43f3u},
      {13, kFlowHashSeed, 0x91697e50u},
      {16, kFlowHashSeed, 0x1de2940fu},
      {20, kFlowHashSeed, 0x65cf1a10u},
      {20, 0, 0x98d5bdd4u},
  };
  for (const Case& c : cases) {
    const std::vector<uint8_t> key = PatternKey(c.length);
    SCOPED_TRACE(testing::Message() << "length " << c.length << " initval " << c.initval);
    EXPECT_EQ(Jhash(key.data(), c.length, c.initval), c.expected);
    EXPECT_EQ(ReferenceJhash(key, c.initval), c.expected);
  }
}

TEST(JhashTest, AgreesWithReferenceOnRandomKeys) {
  std::mt19937 rng(7);
  for (uint32_t length = 0; length <= 40; ++length) {
    for (int round = 0; round < 20; ++round) {
      std::vector<uint8_t> key(length);
      for (uint8_t& byte : key) byte = static_cast<uint8_t>(rng());
      const uint32_t initval = static_cast<uint32_t>(rng());
      ASSERT_EQ(Jhash(key.data(), length, initval), ReferenceJhash(key, initval))
          << "length " << length;
    }
  }
}

TEST(FlowHashTest, GoldenVectors) {
  struct Case {
    const char* source;
    bool has_port;
    uint16_t port;
    Affinity affinity;
    uint8_t ipv6_prefix;
    uint32_t expected;
  };
  const Case cases[] = {
      {"198.18.0.7", true, 40000, Affinity::kNone, 64, 0x26a8aff3u},
      {"198.18.0.7", false, 0, Affinity::kNone, 64, 0xa8f73258u},
      {"198.18.0.7", true, 40000, Affinity::kSingle, 64, 0xa8f73258u},
      {"198.18.0.7", true, 40000, Affinity::kNetwork, 64, 0xf2983e0au},
      {"2001:2::1", true, 40000, Affinity::kNone, 64, 0x1e37ef13u},
      {"2001:2::1", true, 40000, Affinity::kSingle, 64, 0x92994e2fu},
      {"2001:2::1", true, 40000, Affinity::kNetwork, 64, 0x94e7d399u},
      {"2001:2:0:5::1", true, 40000, Affinity::kNetwork, 64, 0x38df799cu},
      {"2001:2:0:5::1", true, 40000, Affinity::kNetwork, 48, 0x94e7d399u},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.source << " port " << c.port << " "
                                    << AffinityName(c.affinity) << " /" << int{c.ipv6_prefix});
    const uint32_t got = FlowHash(Ip(c.source), c.has_port, c.port, c.affinity, c.ipv6_prefix);
    EXPECT_EQ(got, c.expected);
  }
}

// The key layout of docs/hashing.md, checked against Jhash over hand-built keys so that a change
// of layout is caught even if someone regenerates the golden numbers above.
TEST(FlowHashTest, KeyLayout) {
  const uint8_t v4[] = {198, 18, 0, 7};
  const uint8_t v4_port[] = {198, 18, 0, 7, 0x9c, 0x40, 0, 0};  // port 40000 big-endian + pad
  const uint8_t v4_net[] = {198, 18, 0, 0};
  const IpAddress a = Ip("198.18.0.7");
  EXPECT_EQ(FlowHash(a, true, 40000, Affinity::kSingle, 64), Jhash(v4, 4, kFlowHashSeed));
  EXPECT_EQ(FlowHash(a, true, 40000, Affinity::kNone, 64), Jhash(v4_port, 8, kFlowHashSeed));
  EXPECT_EQ(FlowHash(a, false, 40000, Affinity::kNone, 64), Jhash(v4, 4, kFlowHashSeed));
  EXPECT_EQ(FlowHash(a, true, 40000, Affinity::kNetwork, 64), Jhash(v4_net, 4, kFlowHashSeed));

  const IpAddress b = Ip("2001:2::ffff:1");
  uint8_t v6_port[20] = {};
  std::memcpy(v6_port, b.bytes.data(), 16);
  v6_port[16] = 0x00;
  v6_port[17] = 0x50;  // port 80
  EXPECT_EQ(FlowHash(b, true, 80, Affinity::kNone, 64), Jhash(v6_port, 20, kFlowHashSeed));
  EXPECT_EQ(FlowHash(b, true, 80, Affinity::kSingle, 64), Jhash(b.bytes.data(), 16, kFlowHashSeed));
  uint8_t v6_net[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(FlowHash(b, true, 80, Affinity::kNetwork, 64), Jhash(v6_net, 16, kFlowHashSeed));
  // A prefix that is not a whole byte keeps the leading bits of the partial byte: /20 of
  // 2001:ffff::1 keeps 0x20 0x01 and the high nibble of the third byte.
  const IpAddress c = Ip("2001:ffff::1");
  const uint8_t v6_net20[16] = {0x20, 0x01, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(FlowHash(c, false, 0, Affinity::kNetwork, 20), Jhash(v6_net20, 16, kFlowHashSeed));
}

TEST(FlowHashTest, AffinityDecidesWhatIsEqual) {
  struct Case {
    const char* description;
    const char* a;
    uint16_t a_port;
    const char* b;
    uint16_t b_port;
    Affinity affinity;
    uint8_t ipv6_prefix;
    bool equal;
  };
  const Case cases[] = {
      {"v4 none: ports differ", "198.18.0.7", 1000, "198.18.0.7", 1001, Affinity::kNone, 64, false},
      {"v4 single: ports ignored", "198.18.0.7", 1000, "198.18.0.7", 1001, Affinity::kSingle, 64,
       true},
      {"v4 single: hosts differ", "198.18.0.7", 1000, "198.18.0.8", 1000, Affinity::kSingle, 64,
       false},
      {"v4 network: same /24", "198.18.0.7", 1000, "198.18.0.200", 2000, Affinity::kNetwork, 64,
       true},
      {"v4 network: other /24", "198.18.0.7", 1000, "198.18.1.7", 1000, Affinity::kNetwork, 64,
       false},
      {"v6 none: ports differ", "2001:2::1", 1000, "2001:2::1", 1001, Affinity::kNone, 64, false},
      {"v6 single: ports ignored", "2001:2::1", 1000, "2001:2::1", 1001, Affinity::kSingle, 64,
       true},
      {"v6 network /64: same prefix", "2001:2::1", 1000, "2001:2::abcd:ffff:1", 9,
       Affinity::kNetwork, 64, true},
      {"v6 network /64: other prefix", "2001:2::1", 1000, "2001:2:0:1::1", 1000, Affinity::kNetwork,
       64, false},
      {"v6 network /128: hosts differ", "2001:2::1", 1000, "2001:2::2", 1000, Affinity::kNetwork,
       128, false},
      {"v6 network /48: same prefix", "2001:2::1", 1000, "2001:2:0:1::1", 1000, Affinity::kNetwork,
       48, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    const uint32_t ha = FlowHash(Ip(c.a), true, c.a_port, c.affinity, c.ipv6_prefix);
    const uint32_t hb = FlowHash(Ip(c.b), true, c.b_port, c.affinity, c.ipv6_prefix);
    EXPECT_EQ(ha == hb, c.equal);
  }
}

TEST(BucketOfHashTest, EdgesAndScaling) {
  struct Case {
    uint32_t hash;
    uint32_t bucket;
  };
  const Case cases[] = {
      {0x00000000u, 0},    {0x0003ffffu, 0},     {0x00040000u, 1},     {0x7fffffffu, 8191},
      {0x80000000u, 8192}, {0xfffbffffu, 16382}, {0xfffc0000u, 16383}, {0xffffffffu, 16383},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(BucketOfHash(c.hash), c.bucket) << std::hex << c.hash;
  }
}

// The BPF program hashes a flow key without a loop (nlb_flow_key_hash, two 12-byte blocks at
// most, zero padding for the tail); it must equal the byte-wise jhash of the same bytes.
TEST(FlowKeyLayoutTest, LooplessKeyHashEqualsJhash) {
  std::mt19937 rng(2024);
  for (int i = 0; i < 20000; ++i) {
    uint8_t address[16] = {};
    const bool v4 = i % 2 == 0;
    for (int b = 0; b < (v4 ? 4 : 16); ++b) address[b] = static_cast<uint8_t>(rng());
    nlb_flow_key key;
    nlb_flow_key_make(&key, address, v4, static_cast<int>(rng() % 2), static_cast<uint16_t>(rng()),
                      static_cast<uint8_t>(rng() % 3), static_cast<uint8_t>(rng() % 129));
    ASSERT_TRUE(key.length == 4 || key.length == 8 || key.length == 16 || key.length == 20);
    ASSERT_EQ(nlb_flow_key_hash(&key), Jhash(key.bytes, key.length, kFlowHashSeed)) << i;
    for (uint32_t b = key.length; b < NLB_FLOW_KEY_CAPACITY; ++b) ASSERT_EQ(key.bytes[b], 0) << b;
  }
}

}  // namespace
}  // namespace nlb
