// Heartbeat wire format: golden bytes, round trips, and proof that corrupted, truncated, forged
// or random datagrams are rejected with a named reason and never crash.
#include "common/heartbeat.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace nlb {
namespace {

const std::vector<uint8_t> kKey = {'k', 'e', 'y', '-', '0', '1'};

std::string ToHex(const std::vector<uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

Heartbeat Sample() {
  Heartbeat hb;
  hb.cluster_name = "web";
  hb.host_id = 3;
  hb.dedicated_address = *IpAddress::Parse("198.18.0.3");
  hb.boot_id = 0x0102030405060708ULL;
  hb.sequence = 42;
  hb.state = HostState::kConverged;
  hb.holds_map = true;
  hb.members.Add(1);
  hb.members.Add(3);
  hb.members.Add(256);
  hb.heard.Add(1);
  hb.heard.Add(256);
  hb.view_digest.fill(0x11);
  hb.config_digest.fill(0x22);
  hb.rule_params = {{50, 1}, {0, 32}};
  hb.moving = {{0, 16383}};
  hb.kept_out = {{7, 0x99, KeptOutReason::kDuplicateId}};
  return hb;
}

Heartbeat Largest() {
  Heartbeat hb = Sample();
  hb.cluster_name = std::string(kMaxClusterNameLength, 'c');
  hb.dedicated_address = *IpAddress::Parse("2001:2::ffff");
  for (uint16_t id = 1; id <= kMaxHostId; ++id) hb.members.Add(id);
  hb.rule_params.assign(kMaxHeartbeatRules, {100, 32});
  hb.moving.assign(kMaxMovingBuckets, {1, 9});
  hb.kept_out.assign(kMaxKeptOutReports, {256, ~0ULL, KeptOutReason::kMismatchedRules});
  hb.rule_health.assign(kMaxHeartbeatRules, RuleHealth::kFailOpen);
  return hb;
}

// Frames an arbitrary body (everything after the 8-byte header) as an authentic message, to
// reach the field checks behind the HMAC.
std::vector<uint8_t> Signed(const std::vector<uint8_t>& body, uint8_t version = 2,
                            uint8_t flags = 0) {
  std::vector<uint8_t> out;
  out.reserve(8 + body.size() + kHeartbeatTagSize);
  for (uint8_t b : {uint8_t{'N'}, uint8_t{'L'}, uint8_t{'B'}, uint8_t{'H'}, version, flags,
                    uint8_t{0}, uint8_t{0}}) {
    out.push_back(b);
  }
  for (uint8_t b : body) out.push_back(b);
  const size_t total = out.size() + kHeartbeatTagSize;
  out[6] = static_cast<uint8_t>(total >> 8);
  out[7] = static_cast<uint8_t>(total);
  uint8_t tag[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()), out.data(), out.size(), tag,
       &length);
  for (uint8_t b : tag) out.push_back(b);
  return out;
}

std::vector<uint8_t> Encode(const Heartbeat& hb) {
  Result<std::vector<uint8_t>> bytes = EncodeHeartbeat(hb, kKey);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
}

TEST(HeartbeatTest, GoldenBytes) {
  // Version 2 of docs/protocol.md; the tag was checked with an independent HMAC-SHA256
  // (Python's hmac module). If this changes, the protocol changed: bump the version.
  const std::string golden =
      "4e4c4248"  // magic "NLBH"
      "02"
      "01"
      "00db"  // version 2, flags: holds map, total length 219
      "02"
      "03"
      "776562"  // state converged, name length 3, "web"
      "0003"
      "04"
      "c6120003"  // host id 3, family 4, 198.18.0.3
      "0102030405060708"
      "000000000000002a"                                                  // boot id, sequence 42
      "2222222222222222222222222222222222222222222222222222222222222222"  // config digest
      "1111111111111111111111111111111111111111111111111111111111111111"  // view digest
      "a000000000000000000000000000000000000000000000000000000000000001"  // members 1, 3, 256
      "8000000000000000000000000000000000000000000000000000000000000001"  // heard 1, 256
      "02"
      "3201"
      "0020"  // 2 rules: {50, 1}, {0, 32}
      "01"
      "00003fff"  // 1 moving bucket: rule 0, bucket 16383
      "01"
      "0007"
      "02"
      "0000000000000099"  // 1 kept out: host 7, duplicate id, boot 0x99
      "00"                // no extension (no rule has a health check)
      "f33fa49f03d5cbdbd4e059bd7a5817209fc169a0aab76624f8e8e198b21fbfdd";  // HMAC-SHA256
  const std::vector<uint8_t> bytes = Encode(Sample());
  EXPECT_EQ(ToHex(bytes), golden);
  EXPECT_EQ(bytes.size(), 219u);
}

// Version 2's extension 1: what each rule's health check makes the sender do. Tag checked with
// Python's hmac module.
TEST(HeartbeatTest, GoldenBytesRuleHealth) {
  Heartbeat hb = Sample();
  hb.rule_health = {RuleHealth::kDrain, RuleHealth::kUnchecked};
  const std::string golden =
      "4e4c4248"
      "02"
      "01"
      "00df"  // version 2, flags: holds map, total length 223
      "0203776562"
      "000304c6120003"
      "0102030405060708"
      "000000000000002a"
      "2222222222222222222222222222222222222222222222222222222222222222"
      "1111111111111111111111111111111111111111111111111111111111111111"
      "a000000000000000000000000000000000000000000000000000000000000001"
      "8000000000000000000000000000000000000000000000000000000000000001"
      "0232010020"
      "0100003fff"
      "01000702"
      "0000000000000099"
      "01"  // 1 extension
      "01"
      "02"
      "0200"  // type 1 (rule health), 2 bytes: rule 0 drain, rule 1 no check
      "b394b62440286205986dcb0b72e9f157455897e8e75c53b0f9acfce2a8a580df";
  const std::vector<uint8_t> bytes = Encode(hb);
  EXPECT_EQ(ToHex(bytes), golden);
  Result<Heartbeat> decoded = DecodeHeartbeat(bytes, kKey, "web");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded.value(), hb);
  // Only unchecked rules: no extension at all, decoded as no health.
  hb.rule_health = {RuleHealth::kUnchecked, RuleHealth::kUnchecked};
  EXPECT_EQ(Encode(hb), Encode(Sample()));
}

// Connection tracking's additions (version 1 already): flags bit 1 (map current) and moving count
// 255 (the moving buckets travel in NLBM moving reports). Tag checked with Python's hmac module.
TEST(HeartbeatTest, GoldenBytesMovingInReports) {
  Heartbeat hb = Sample();
  hb.map_current = true;
  hb.moving.clear();
  hb.moving_in_reports = true;
  const std::string golden =
      "4e4c4248"
      "02"
      "03"
      "00d7"  // version 2, flags: holds map, map current; total length 215
      "0203776562"
      "000304c6120003"
      "0102030405060708"
      "000000000000002a"
      "2222222222222222222222222222222222222222222222222222222222222222"
      "1111111111111111111111111111111111111111111111111111111111111111"
      "a000000000000000000000000000000000000000000000000000000000000001"
      "8000000000000000000000000000000000000000000000000000000000000001"
      "0232010020"
      "ff"  // moving count 255: see the moving reports
      "01000702"
      "0000000000000099"
      "00"
      "09ee8fe080bf6dfce8e30631c70a61ac4c46b5eaea7460122fd921ad60e15e6a";
  const std::vector<uint8_t> bytes = Encode(hb);
  EXPECT_EQ(ToHex(bytes), golden);
  Result<Heartbeat> decoded = DecodeHeartbeat(bytes, kKey, "web");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded.value(), hb);
  Heartbeat both = hb;
  both.moving = {{0, 1}};
  EXPECT_FALSE(EncodeHeartbeat(both, kKey).ok());
}

TEST(HeartbeatTest, RoundTrips) {
  Heartbeat v6 = Sample();
  v6.dedicated_address = *IpAddress::Parse("2001:2::7");
  v6.state = HostState::kDraining;
  v6.holds_map = false;
  Heartbeat health = Sample();
  health.rule_health = {RuleHealth::kFailOpen, RuleHealth::kServe};
  Heartbeat empty_lists = Sample();
  empty_lists.rule_params.clear();
  empty_lists.moving.clear();
  empty_lists.kept_out.clear();
  const struct {
    const char* description;
    Heartbeat heartbeat;
  } cases[] = {{"ipv4 sample", Sample()},
               {"ipv6 draining", v6},
               {"rule health", health},
               {"empty lists", empty_lists},
               {"largest", Largest()}};
  for (const auto& c : cases) {
    Result<Heartbeat> decoded =
        DecodeHeartbeat(Encode(c.heartbeat), kKey, c.heartbeat.cluster_name);
    ASSERT_TRUE(decoded.ok()) << c.description << ": " << decoded.status().ToString();
    EXPECT_EQ(decoded.value(), c.heartbeat) << c.description;
  }
}

TEST(HeartbeatTest, LargestFitsOneDatagram) {
  EXPECT_EQ(Encode(Largest()).size(), kMaxHeartbeatSize);
  EXPECT_LE(kMaxHeartbeatSize, 1452u);
}

TEST(HeartbeatTest, EncodeRefusesOutOfRangeFields) {
  const struct {
    const char* description;
    void (*mutate)(Heartbeat&);
    const char* names;
  } cases[] = {
      {"host id 0", [](Heartbeat& h) { h.host_id = 0; }, "host_id"},
      {"host id 257", [](Heartbeat& h) { h.host_id = 257; }, "host_id"},
      {"empty name", [](Heartbeat& h) { h.cluster_name.clear(); }, "cluster_name"},
      {"long name", [](Heartbeat& h) { h.cluster_name.assign(64, 'x'); }, "cluster_name"},
      {"no address", [](Heartbeat& h) { h.dedicated_address = {}; }, "dedicated_address"},
      {"too many rules", [](Heartbeat& h) { h.rule_params.resize(129); }, "rule_params"},
      {"weight 256", [](Heartbeat& h) { h.rule_params[0].weight = 256; }, "rule_params[0]"},
      {"moving rule", [](Heartbeat& h) { h.moving[0].rule_index = 2; }, "moving"},
      {"moving bucket", [](Heartbeat& h) { h.moving[0].bucket = 16384; }, "moving"},
      {"kept out host", [](Heartbeat& h) { h.kept_out[0].host_id = 0; }, "kept_out"},
      {"health of 1 rule for 2", [](Heartbeat& h) { h.rule_health = {RuleHealth::kDrain}; },
       "rule_health"},
      {"health value 4",
       [](Heartbeat& h) {
         h.rule_health = {RuleHealth::kServe, static_cast<RuleHealth>(4)};
       },
       "rule_health"},
  };
  for (const auto& c : cases) {
    Heartbeat hb = Sample();
    c.mutate(hb);
    Result<std::vector<uint8_t>> bytes = EncodeHeartbeat(hb, kKey);
    ASSERT_FALSE(bytes.ok()) << c.description;
    EXPECT_EQ(bytes.status().code(), ErrorCode::kInvalidArgument) << c.description;
    EXPECT_NE(bytes.status().message().find(c.names), std::string::npos)
        << c.description << ": " << bytes.status().message();
  }
}

TEST(HeartbeatTest, WrongKeyIsBadHmac) {
  const std::vector<uint8_t> other = {'k', 'e', 'y', '-', '0', '2'};
  Result<Heartbeat> decoded = DecodeHeartbeat(Encode(Sample()), other, "web");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kAuthentication);
  EXPECT_NE(decoded.status().message().find("HMAC"), std::string::npos);
}

TEST(HeartbeatTest, OtherClusterIsNamed) {
  Result<Heartbeat> decoded = DecodeHeartbeat(Encode(Sample()), kKey, "mail");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("'web'"), std::string::npos);
}

TEST(HeartbeatTest, EveryFlippedByteIsRejected) {
  const std::vector<uint8_t> valid = Encode(Sample());
  for (size_t i = 0; i < valid.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bytes = valid;
      bytes[i] ^= mask;
      EXPECT_FALSE(DecodeHeartbeat(bytes, kKey, "web").ok()) << "byte " << i << " mask " << +mask;
    }
  }
}

TEST(HeartbeatTest, EveryTruncationIsRejected) {
  const std::vector<uint8_t> valid = Encode(Sample());
  for (size_t n = 0; n < valid.size(); ++n) {
    std::vector<uint8_t> bytes(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n));
    Result<Heartbeat> decoded = DecodeHeartbeat(bytes, kKey, "web");
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kMalformed) << n;
  }
  std::vector<uint8_t> longer = valid;
  longer.push_back(0);
  EXPECT_FALSE(DecodeHeartbeat(longer, kKey, "web").ok());
}

// Authentic messages (a key holder's bug) whose fields are wrong: each error names the field.
TEST(HeartbeatTest, AuthenticButMalformedNamesTheField) {
  // Body of Sample() after the 8-byte header and before the tag.
  const std::vector<uint8_t> valid = Encode(Sample());
  const std::vector<uint8_t> body(valid.begin() + 8, valid.end() - 32);
  auto with = [&body](size_t offset, uint8_t value) {
    std::vector<uint8_t> b = body;
    b[offset] = value;
    return b;
  };
  auto cut = [&body](size_t length) {
    return std::vector<uint8_t>(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(length));
  };
  std::vector<uint8_t> trailing = body;
  trailing.push_back(0);
  // Body offsets: 0 state, 1 name length, 2..4 name, 5..6 host id, 7 family, 8..11 address,
  // 12..19 boot, 20..27 sequence, 28 config digest, 60 view digest, 92 members, 124 heard,
  // 156 rule count, 161 moving count, 166 kept-out count.
  const struct {
    const char* description;
    std::vector<uint8_t> bytes;
    const char* expected;
  } cases[] = {
      {"bad magic", {'X', 'L', 'B', 'H'}, "bad magic"},
      {"version 1", Signed(body, 1), "unsupported version 1 (this agent speaks 2)"},
      {"unknown flag", Signed(body, 2, 0x80), "unknown flags"},
      {"unknown state", Signed(with(0, 9)), "state 9"},
      {"empty name", Signed(with(1, 0)), "cluster name length 0"},
      {"host id 0", Signed(with(6, 0)), "host id 0"},
      {"address family", Signed(with(7, 5)), "address family 5"},
      {"cut in sequence", Signed(cut(24)), "truncated at field 'sequence'"},
      {"cut in heard", Signed(cut(130)), "truncated at field 'heard'"},
      {"rule count", Signed(with(156, 200)), "rule count 200 is too large"},
      {"cut in rules", Signed(with(156, 100)), "truncated at field 'rule"},
      {"moving index", Signed(with(163, 9)), "moving entry {9"},
      {"kept-out count", Signed(with(166, 17)), "kept-out count 17 is too large"},
      {"kept-out reason", Signed(with(169, 3)), "kept-out entry for host 7 is invalid"},
      {"no extension count", Signed(cut(178)), "truncated at field 'extension count'"},
      {"extension count", Signed(with(178, 9)), "extension count 9 is too large"},
      {"trailing byte", Signed(trailing), "1 unexpected bytes"},
  };
  for (const auto& c : cases) {
    Result<Heartbeat> decoded = DecodeHeartbeat(c.bytes, kKey, "web");
    ASSERT_FALSE(decoded.ok()) << c.description;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kMalformed) << c.description;
    EXPECT_NE(decoded.status().message().find(c.expected), std::string::npos)
        << c.description << ": " << decoded.status().message();
  }
  // The framing helper itself yields an accepted message when nothing is wrong.
  EXPECT_TRUE(DecodeHeartbeat(Signed(body, 2, 1), kKey, "web").ok());
}

// The rule health extension corrupted by a key holder's bug: each error names what is wrong.
TEST(HeartbeatTest, CorruptRuleHealthIsMalformed) {
  Heartbeat hb = Sample();
  hb.rule_health = {RuleHealth::kDrain, RuleHealth::kUnchecked};
  const std::vector<uint8_t> valid = Encode(hb);
  // Body offsets: 178 extension count, 179 type, 180 length, 181.. one byte per rule.
  const std::vector<uint8_t> body(valid.begin() + 8, valid.end() - 32);
  ASSERT_EQ(body.size(), 183u);
  auto with = [&body](size_t offset, uint8_t value) {
    std::vector<uint8_t> b = body;
    b[offset] = value;
    return b;
  };
  std::vector<uint8_t> repeated = with(178, 2);
  for (uint8_t b : {1, 2, 2, 0}) repeated.push_back(b);
  const struct {
    const char* description;
    std::vector<uint8_t> body;
    const char* expected;
  } cases[] = {
      {"health value 4", with(181, 4), "rule health 4 of rule 0 is unknown"},
      {"health value 255", with(182, 255), "rule health 255 of rule 1 is unknown"},
      {"one entry for two rules", with(180, 1), "rule health extension of 1 entries for 2 rules"},
      {"three entries for two rules", with(180, 3), "truncated at field 'extension value'"},
      {"cut in the values", std::vector<uint8_t>(body.begin(), body.end() - 1),
       "truncated at field 'extension value'"},
      {"cut before the length", std::vector<uint8_t>(body.begin(), body.begin() + 180),
       "truncated at field 'extension length'"},
      {"two extensions, one there", with(178, 2), "truncated at field 'extension type'"},
      {"repeated", repeated, "rule health extension repeated"},
  };
  for (const auto& c : cases) {
    Result<Heartbeat> decoded = DecodeHeartbeat(Signed(c.body), kKey, "web");
    ASSERT_FALSE(decoded.ok()) << c.description;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kMalformed) << c.description;
    EXPECT_NE(decoded.status().message().find(c.expected), std::string::npos)
        << c.description << ": " << decoded.status().message();
  }
  EXPECT_TRUE(DecodeHeartbeat(Signed(body, 2, 1), kKey, "web").ok());
}

// A later version's extension, of a type this one does not know, is skipped: that is what lets
// the format grow without a new version.
TEST(HeartbeatTest, UnknownExtensionsAreSkipped) {
  Heartbeat hb = Sample();
  hb.rule_health = {RuleHealth::kServe, RuleHealth::kFailOpen};
  const std::vector<uint8_t> valid = Encode(hb);
  std::vector<uint8_t> body(valid.begin() + 8, valid.end() - 32);
  body[178] = 3;
  for (uint8_t b : {0x07, 0x03, 0xaa, 0xbb, 0xcc, 0xfe, 0x00}) body.push_back(b);
  Result<Heartbeat> decoded = DecodeHeartbeat(Signed(body, 2, 1), kKey, "web");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded.value(), hb);
  // Up to one datagram: a later version may be longer than this one's largest heartbeat.
  const std::vector<uint8_t> largest = Encode(Largest());
  std::vector<uint8_t> longer(largest.begin() + 8, largest.end() - 32);
  const size_t room = kMaxHeartbeatDatagram - largest.size() - 2;
  ASSERT_GT(room, 0u);
  longer[longer.size() - 2 - kMaxHeartbeatRules - 1] = 2;  // its extension count
  longer.push_back(0x09);
  longer.push_back(static_cast<uint8_t>(room));
  longer.insert(longer.end(), room, 0x5a);
  decoded = DecodeHeartbeat(Signed(longer, 2, 1), kKey, std::string(kMaxClusterNameLength, 'c'));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded.value(), Largest());
}

TEST(HeartbeatTest, FuzzCorpusNeverAccepted) {
  std::mt19937_64 random(20240601);
  const std::vector<uint8_t> valid = Encode(Sample());
  const std::vector<uint8_t> largest = Encode(Largest());
  int rejected = 0;
  constexpr int kInputs = 100000;
  for (int i = 0; i < kInputs; ++i) {
    std::vector<uint8_t> bytes;
    switch (i % 4) {
      case 0: {  // random bytes behind a correct magic and version
        bytes.resize(random() % 1600);
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(random());
        if (bytes.size() >= 8 && random() % 2) {
          const uint8_t header[] = {'N',
                                    'L',
                                    'B',
                                    'H',
                                    kHeartbeatVersion,
                                    0,
                                    static_cast<uint8_t>(bytes.size() >> 8),
                                    static_cast<uint8_t>(bytes.size())};
          std::copy(header, header + 8, bytes.begin());
        }
        break;
      }
      case 1:
      case 2: {  // a few random byte changes of a valid message
        bytes = (i % 8 == 1) ? largest : valid;
        const int changes = 1 + static_cast<int>(random() % 4);
        for (int c = 0; c < changes; ++c) bytes[random() % bytes.size()] ^= 1 + random() % 255;
        break;
      }
      default: {  // splice: insert or delete a run
        bytes = valid;
        const size_t at = random() % bytes.size();
        const size_t run = 1 + random() % 16;
        if (random() % 2) {
          bytes.erase(
              bytes.begin() + static_cast<std::ptrdiff_t>(at),
              bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), at + run)));
        } else {
          bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), run,
                       static_cast<uint8_t>(random()));
        }
      }
    }
    if (bytes == valid || bytes == largest) continue;
    Result<Heartbeat> decoded = DecodeHeartbeat(bytes, kKey, "web");
    EXPECT_FALSE(decoded.ok()) << "input " << i;
    if (!decoded.ok()) ++rejected;
  }
  EXPECT_GT(rejected, kInputs * 9 / 10);
}

}  // namespace
}  // namespace nlb
