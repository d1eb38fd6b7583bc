// MovingReport (NLBM): golden bytes, round trips through parts (a join's worth of buckets and a
// full rule set), and corrupted or foreign datagrams rejected with the right error code.
#include "common/moving_report.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace nlb {
namespace {

const std::vector<uint8_t> kKey = {'k', 'e', 'y', '-', '0', '1'};

std::string ToHex(const std::vector<uint8_t>& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

MovingReport Sample() {
  MovingReport r;
  r.cluster_name = "web";
  r.host_id = 3;
  r.boot_id = 0x0102030405060708ULL;
  r.sequence = 42;
  r.view_digest.fill(0x11);
  r.map_current = true;
  r.rules.resize(2);
  r.rules[0].Add(0);
  r.rules[0].Add(63);
  r.rules[0].Add(1024);
  r.rules[1].Add(16383);
  return r;
}

std::vector<std::vector<uint8_t>> Encode(const MovingReport& r) {
  auto parts = EncodeMovingReport(r, kKey);
  EXPECT_TRUE(parts.ok()) << parts.status().ToString();
  return parts.ok() ? parts.value() : std::vector<std::vector<uint8_t>>{};
}

MovingReport Assemble(const std::vector<std::vector<uint8_t>>& parts) {
  MovingReport out;
  for (const auto& bytes : parts) {
    auto part = DecodeMovingReportPart(bytes, kKey, "web");
    EXPECT_TRUE(part.ok()) << part.status().ToString();
    if (!part.ok()) continue;
    EXPECT_EQ(part->part_count, parts.size());
    if (out.rules.empty()) {
      out = part->report;
    } else {
      for (size_t r = 0; r < out.rules.size(); ++r) out.rules[r] |= part->report.rules[r];
    }
  }
  return out;
}

TEST(MovingReportTest, GoldenBytes) {
  // docs/protocol.md "Moving reports"; the tag was checked with Python's hmac module.
  const std::string golden =
      "4e4c424d"  // magic "NLBM"
      "01"
      "01"
      "0086"  // version 1, flags: map current, total length 134
      "03776562"  // name length 3, "web"
      "0003"
      "0102030405060708"
      "000000000000002a"  // host 3, boot id, sequence 42
      "1111111111111111111111111111111111111111111111111111111111111111"  // view digest
      "02"
      "00"
      "01"
      "03"  // 2 rules, part 0 of 1, 3 sections
      "000000018000000000000001"  // rule 0, group 0, mask word 0: buckets 0 and 63
      "000100010000000000000001"  // rule 0, group 1, mask word 0: bucket 1024
      "010f80008000000000000000"  // rule 1, group 15, mask word 15: bucket 16383
      "e7ce45d8a175cd0daae91feeb29bc3ad7b457cf95cae12fd1024765e190b8570";  // HMAC-SHA256
  const auto parts = Encode(Sample());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(ToHex(parts[0]), golden);
  EXPECT_EQ(Assemble(parts), Sample());
}

TEST(MovingReportTest, EmptyReportIsOnePart) {
  MovingReport r = Sample();
  for (BucketSet& s : r.rules) s.Clear();
  const auto parts = Encode(r);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].size(), 9u + 3 + 2 + 8 + 8 + 32 + 4 + 32);
  EXPECT_EQ(Assemble(parts), r);
}

TEST(MovingReportTest, LargeReportsAreCutIntoParts) {
  struct Case {
    std::string name;
    size_t rules;
    uint32_t every;  // one bucket in `every`; 1 = all
    size_t max_parts;
  };
  const std::vector<Case> cases = {
      {"a join: a third of a rule's buckets", 1, 3, 2},
      {"one full rule", 1, 1, 2},
      {"eight scattered rules", 8, 7, 16},
      {"128 full rules", 128, 1, 255},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    MovingReport r = Sample();
    r.cluster_name = std::string(kMaxClusterNameLength, 'w');
    r.rules.assign(c.rules, BucketSet());
    for (size_t i = 0; i < c.rules; ++i) {
      for (uint32_t b = static_cast<uint32_t>(i) % c.every; b < kBucketCount; b += c.every) {
        r.rules[i].Add(b);
      }
    }
    const auto parts = Encode(r);
    EXPECT_LE(parts.size(), c.max_parts);
    for (const auto& p : parts) EXPECT_LE(p.size(), kMaxMovingReportSize);
    MovingReport out;
    for (const auto& bytes : parts) {
      auto part = DecodeMovingReportPart(bytes, kKey, r.cluster_name);
      ASSERT_TRUE(part.ok()) << part.status().ToString();
      if (out.rules.empty()) out = part->report;
      for (size_t i = 0; i < out.rules.size(); ++i) out.rules[i] |= part->report.rules[i];
    }
    EXPECT_EQ(out, r);
  }
}

TEST(MovingReportTest, RejectsCorruptAndForeignDatagrams) {
  const std::vector<uint8_t> good = Encode(Sample())[0];
  struct Case {
    std::string name;
    std::vector<uint8_t> bytes;
    ErrorCode code;
  };
  auto flip = [&](size_t at) {
    std::vector<uint8_t> b = good;
    b[at] ^= 0x40;
    return b;
  };
  std::vector<uint8_t> truncated(good.begin(), good.end() - 1);
  std::vector<uint8_t> heartbeat_magic = good;
  heartbeat_magic[3] = 'H';
  const std::vector<Case> cases = {
      {"altered section word", flip(good.size() - 40), ErrorCode::kAuthentication},
      {"altered sequence", flip(30), ErrorCode::kAuthentication},
      {"truncated", truncated, ErrorCode::kMalformed},
      {"a heartbeat's magic", heartbeat_magic, ErrorCode::kMalformed},
      {"version 2", [&] { auto b = good; b[4] = 2; return b; }(), ErrorCode::kMalformed},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto part = DecodeMovingReportPart(c.bytes, kKey, "web");
    ASSERT_FALSE(part.ok());
    EXPECT_EQ(part.status().code(), c.code) << part.status().ToString();
  }
  auto other = DecodeMovingReportPart(good, kKey, "mail");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), ErrorCode::kInvalidArgument);
  const std::vector<uint8_t> wrong_key = {'x'};
  EXPECT_EQ(DecodeMovingReportPart(good, wrong_key, "web").status().code(),
            ErrorCode::kAuthentication);
}

}  // namespace
}  // namespace nlb
