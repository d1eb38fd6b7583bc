#include "common/moving_report.h"

#include <bit>
#include <cstring>

#include "common/hmac_sha256.h"

namespace nlb {
namespace {

constexpr uint8_t kMagic[4] = {'N', 'L', 'B', 'M'};
constexpr uint8_t kFlagMapCurrent = 0x01;
constexpr size_t kWordsPerGroup = 16;
constexpr size_t kGroups = BucketSet::kWords / kWordsPerGroup;  // 16 groups of 1024 buckets
constexpr size_t kFixedSize = 9;  // magic, version, flags, length, name length
// After the name: host id, boot id, sequence, view digest, rule count, part index and count,
// section count.
constexpr size_t kHeaderTail = 2 + 8 + 8 + 32 + 1 + 1 + 1 + 1;
constexpr size_t kMaxSectionSize = 4 + 8 * kWordsPerGroup;

void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void Put64(std::vector<uint8_t>& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

uint16_t GroupMask(const BucketSet& set, size_t group) {
  uint16_t mask = 0;
  for (size_t i = 0; i < kWordsPerGroup; ++i) {
    if (set.word(group * kWordsPerGroup + i) != 0) mask |= static_cast<uint16_t>(1u << i);
  }
  return mask;
}

Status Malformed(std::string message) {
  return Status::Error(ErrorCode::kMalformed, "moving report " + std::move(message));
}

}  // namespace

bool IsMovingReport(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), kMagic, 4) == 0;
}

Result<std::vector<std::vector<uint8_t>>> EncodeMovingReport(const MovingReport& report,
                                                             std::span<const uint8_t> key) {
  auto bad = [](std::string message) {
    return Status::Error(ErrorCode::kInvalidArgument, "moving report " + std::move(message));
  };
  if (report.cluster_name.empty() || report.cluster_name.size() > kMaxClusterNameLength) {
    return bad("cluster_name: must be 1.." + std::to_string(kMaxClusterNameLength) + " bytes");
  }
  if (report.host_id == 0 || report.host_id > kMaxHostId) return bad("host_id: not in 1..256");
  if (report.rules.size() > kMaxHeartbeatRules) return bad("rules: at most 128");

  // Sections in order (rule, group), packed greedily into parts.
  struct Section {
    uint8_t rule;
    uint8_t group;
    uint16_t mask;
  };
  const size_t header = kFixedSize + report.cluster_name.size() + kHeaderTail;
  const size_t budget = kMaxMovingReportSize - header - kHeartbeatTagSize;
  std::vector<std::vector<Section>> parts(1);
  size_t used = 0;
  for (size_t r = 0; r < report.rules.size(); ++r) {
    for (size_t g = 0; g < kGroups; ++g) {
      const uint16_t mask = GroupMask(report.rules[r], g);
      if (mask == 0) continue;
      const size_t size = 4 + 8 * static_cast<size_t>(std::popcount(mask));
      if (used + size > budget || parts.back().size() == 255) {
        parts.emplace_back();
        used = 0;
      }
      parts.back().push_back({static_cast<uint8_t>(r), static_cast<uint8_t>(g), mask});
      used += size;
    }
  }
  if (parts.size() > kMaxMovingReportParts) {
    return bad("needs " + std::to_string(parts.size()) + " parts, at most 255");
  }
  static_assert(kMaxSectionSize * 9 <= kMaxMovingReportSize - kFixedSize - kMaxClusterNameLength -
                                           kHeaderTail - kHeartbeatTagSize,
                "a part holds at least nine full sections");

  std::vector<std::vector<uint8_t>> out;
  for (size_t p = 0; p < parts.size(); ++p) {
    std::vector<uint8_t> d(kMagic, kMagic + 4);
    d.push_back(kMovingReportVersion);
    d.push_back(report.map_current ? kFlagMapCurrent : 0);
    Put16(d, 0);  // total length, patched below
    d.push_back(static_cast<uint8_t>(report.cluster_name.size()));
    d.insert(d.end(), report.cluster_name.begin(), report.cluster_name.end());
    Put16(d, report.host_id);
    Put64(d, report.boot_id);
    Put64(d, report.sequence);
    d.insert(d.end(), report.view_digest.begin(), report.view_digest.end());
    d.push_back(static_cast<uint8_t>(report.rules.size()));
    d.push_back(static_cast<uint8_t>(p));
    d.push_back(static_cast<uint8_t>(parts.size()));
    d.push_back(static_cast<uint8_t>(parts[p].size()));
    for (const Section& s : parts[p]) {
      d.push_back(s.rule);
      d.push_back(s.group);
      Put16(d, s.mask);
      for (size_t i = 0; i < kWordsPerGroup; ++i) {
        if ((s.mask >> i) & 1) Put64(d, report.rules[s.rule].word(s.group * kWordsPerGroup + i));
      }
    }
    const size_t total = d.size() + kHeartbeatTagSize;
    d[6] = static_cast<uint8_t>(total >> 8);
    d[7] = static_cast<uint8_t>(total);
    const Digest tag = HmacSha256(key, d);
    d.insert(d.end(), tag.begin(), tag.end());
    out.push_back(std::move(d));
  }
  return out;
}

Result<MovingReportPart> DecodeMovingReportPart(std::span<const uint8_t> bytes,
                                                std::span<const uint8_t> key,
                                                std::string_view expected_cluster_name) {
  if (!IsMovingReport(bytes)) return Malformed("bad magic: not an NLBM datagram");
  if (bytes.size() < kFixedSize + kHeartbeatTagSize) {
    return Malformed("too short: " + std::to_string(bytes.size()) + " bytes");
  }
  if (bytes[4] != kMovingReportVersion) {
    return Malformed("unsupported version " + std::to_string(bytes[4]));
  }
  const size_t length = (static_cast<size_t>(bytes[6]) << 8) | bytes[7];
  if (length != bytes.size() || length > kMaxMovingReportSize) {
    return Malformed("length field says " + std::to_string(length) + " bytes, datagram has " +
                     std::to_string(bytes.size()) + " (at most " +
                     std::to_string(kMaxMovingReportSize) + ")");
  }
  const std::span<const uint8_t> body = bytes.first(length - kHeartbeatTagSize);
  const Digest tag = HmacSha256(key, body);
  if (!TagMatches(tag, bytes.subspan(body.size()))) {
    return Status::Error(ErrorCode::kAuthentication,
                         "moving report HMAC does not match (wrong cluster key or altered bytes)");
  }
  if ((bytes[5] & ~kFlagMapCurrent) != 0) {
    return Malformed("unknown flags " + std::to_string(bytes[5]));
  }
  MovingReportPart part;
  MovingReport& report = part.report;
  report.map_current = (bytes[5] & kFlagMapCurrent) != 0;
  size_t pos = 8;
  auto need = [&](size_t n) { return body.size() - pos >= n; };
  auto u8 = [&]() { return body[pos++]; };
  auto u16 = [&]() {
    const uint16_t v = static_cast<uint16_t>((body[pos] << 8) | body[pos + 1]);
    pos += 2;
    return v;
  };
  auto u64 = [&]() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | body[pos++];
    return v;
  };
  const size_t name_length = u8();
  if (name_length == 0 || name_length > kMaxClusterNameLength) {
    return Malformed("cluster name length " + std::to_string(name_length) + " is not 1..63");
  }
  if (!need(name_length + kHeaderTail)) return Malformed("truncated in its header");
  report.cluster_name.assign(reinterpret_cast<const char*>(body.data() + pos), name_length);
  pos += name_length;
  report.host_id = u16();
  report.boot_id = u64();
  report.sequence = u64();
  std::memcpy(report.view_digest.data(), body.data() + pos, report.view_digest.size());
  pos += report.view_digest.size();
  const size_t rule_count = u8();
  part.part_index = u8();
  part.part_count = u8();
  const size_t sections = u8();
  if (report.host_id == 0 || report.host_id > kMaxHostId) {
    return Malformed("host id " + std::to_string(report.host_id) + " is not in 1..256");
  }
  if (rule_count > kMaxHeartbeatRules) {
    return Malformed("rule count " + std::to_string(rule_count) + " is too large");
  }
  if (part.part_count == 0 || part.part_index >= part.part_count) {
    return Malformed("part " + std::to_string(part.part_index) + " of " +
                     std::to_string(part.part_count) + " is impossible");
  }
  report.rules.resize(rule_count);
  for (size_t s = 0; s < sections; ++s) {
    if (!need(4)) return Malformed("truncated in section " + std::to_string(s));
    const size_t rule = u8();
    const size_t group = u8();
    const uint16_t mask = u16();
    if (rule >= rule_count || group >= kGroups || mask == 0) {
      return Malformed("section {rule " + std::to_string(rule) + ", group " +
                       std::to_string(group) + "} is invalid");
    }
    if (!need(8 * static_cast<size_t>(std::popcount(mask)))) {
      return Malformed("truncated in section " + std::to_string(s));
    }
    for (size_t i = 0; i < kWordsPerGroup; ++i) {
      if ((mask >> i) & 1) report.rules[rule].set_word(group * kWordsPerGroup + i, u64());
    }
  }
  if (pos != body.size()) {
    return Malformed(std::to_string(body.size() - pos) + " unexpected bytes after the last section");
  }
  if (report.cluster_name != expected_cluster_name) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "moving report for cluster '" + report.cluster_name + "', this is cluster '" +
                             std::string(expected_cluster_name) + "'");
  }
  return part;
}

}  // namespace nlb
