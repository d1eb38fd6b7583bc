#include "common/heartbeat.h"

#include <cstring>

#include "common/flow_hash.h"
#include "common/hmac_sha256.h"

namespace nlb {
namespace {

constexpr uint8_t kMagic[4] = {'N', 'L', 'B', 'H'};
constexpr uint8_t kFlagHoldsMap = 0x01;
constexpr uint8_t kFlagMapCurrent = 0x02;
constexpr uint8_t kKnownFlags = kFlagHoldsMap | kFlagMapCurrent;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U64(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) U8(static_cast<uint8_t>(v >> shift));
  }
  void Bytes(const uint8_t* data, size_t n) { out_.insert(out_.end(), data, data + n); }
  std::vector<uint8_t>& out() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

// Reads big-endian fields; the first read past the end records which field was cut and every
// later read fails, so a decoder checks once per field and reports the first missing one.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool U8(const char* field, uint8_t& v) {
    if (!Need(field, 1)) return false;
    v = in_[pos_++];
    return true;
  }
  bool U16(const char* field, uint16_t& v) {
    if (!Need(field, 2)) return false;
    v = static_cast<uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool U64(const char* field, uint64_t& v) {
    if (!Need(field, 8)) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | in_[pos_++];
    return true;
  }
  bool Bytes(const char* field, uint8_t* out, size_t n) {
    if (!Need(field, n)) return false;
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t remaining() const { return in_.size() - pos_; }
  Status Truncated() const {
    return Status::Error(ErrorCode::kMalformed,
                         std::string("heartbeat truncated at field '") + cut_field_ + "'");
  }

 private:
  bool Need(const char* field, size_t n) {
    if (in_.size() - pos_ >= n) return true;
    cut_field_ = field;
    pos_ = in_.size();
    return false;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  const char* cut_field_ = "";
};

Status Malformed(std::string message) {
  return Status::Error(ErrorCode::kMalformed, "heartbeat " + std::move(message));
}

bool ValidState(uint8_t v) {
  return v >= static_cast<uint8_t>(HostState::kConverging) &&
         v <= static_cast<uint8_t>(HostState::kSuspended);
}

bool ValidHealth(uint8_t v) { return v <= static_cast<uint8_t>(RuleHealth::kFailOpen); }

bool AnyChecked(const std::vector<RuleHealth>& health) {
  for (RuleHealth h : health) {
    if (h != RuleHealth::kUnchecked) return true;
  }
  return false;
}

bool ValidReason(uint8_t v) {
  return v == static_cast<uint8_t>(KeptOutReason::kMismatchedRules) ||
         v == static_cast<uint8_t>(KeptOutReason::kDuplicateId);
}

Status CheckEncodable(const Heartbeat& hb) {
  auto bad = [](std::string message) {
    return Status::Error(ErrorCode::kInvalidArgument, "heartbeat " + std::move(message));
  };
  if (hb.cluster_name.empty() || hb.cluster_name.size() > kMaxClusterNameLength) {
    return bad("cluster_name: must be 1.." + std::to_string(kMaxClusterNameLength) + " bytes");
  }
  if (hb.host_id == 0 || hb.host_id > kMaxHostId) {
    return bad("host_id: " + std::to_string(hb.host_id) + " is not in 1..256");
  }
  if (!hb.dedicated_address.is_v4() && !hb.dedicated_address.is_v6()) {
    return bad("dedicated_address: must be IPv4 or IPv6");
  }
  if (!ValidState(static_cast<uint8_t>(hb.state))) return bad("state: unknown value");
  if (hb.rule_params.size() > kMaxHeartbeatRules) {
    return bad("rule_params: " + std::to_string(hb.rule_params.size()) + " rules, at most " +
               std::to_string(kMaxHeartbeatRules));
  }
  for (size_t i = 0; i < hb.rule_params.size(); ++i) {
    if (hb.rule_params[i].weight > 255 || hb.rule_params[i].priority > 255) {
      return bad("rule_params[" + std::to_string(i) + "]: weight and priority must be 0..255");
    }
  }
  if (hb.moving.size() > kMaxMovingBuckets) {
    return bad("moving: at most " + std::to_string(kMaxMovingBuckets) + " entries");
  }
  if (hb.moving_in_reports && !hb.moving.empty()) {
    return bad("moving: a list and moving_in_reports exclude each other");
  }
  for (const MovingBucket& m : hb.moving) {
    if (m.rule_index >= hb.rule_params.size() || m.bucket >= kBucketCount) {
      return bad("moving: entry {" + std::to_string(m.rule_index) + ", " +
                 std::to_string(m.bucket) + "} names no rule bucket");
    }
  }
  if (hb.kept_out.size() > kMaxKeptOutReports) {
    return bad("kept_out: at most " + std::to_string(kMaxKeptOutReports) + " entries");
  }
  for (const KeptOutReport& k : hb.kept_out) {
    if (k.host_id == 0 || k.host_id > kMaxHostId || !ValidReason(static_cast<uint8_t>(k.reason))) {
      return bad("kept_out: entry for host " + std::to_string(k.host_id) + " is invalid");
    }
  }
  if (!hb.rule_health.empty() && hb.rule_health.size() != hb.rule_params.size()) {
    return bad("rule_health: " + std::to_string(hb.rule_health.size()) + " entries for " +
               std::to_string(hb.rule_params.size()) + " rules");
  }
  for (RuleHealth h : hb.rule_health) {
    if (!ValidHealth(static_cast<uint8_t>(h))) return bad("rule_health: unknown value");
  }
  return Status::Ok();
}

}  // namespace

std::string_view RuleHealthName(RuleHealth health) {
  switch (health) {
    case RuleHealth::kUnchecked:
      return "none";
    case RuleHealth::kServe:
      return "serve";
    case RuleHealth::kDrain:
      return "drain";
    case RuleHealth::kFailOpen:
      return "fail-open";
  }
  return "unknown";
}

std::string_view HostStateName(HostState state) {
  switch (state) {
    case HostState::kConverging:
      return "converging";
    case HostState::kConverged:
      return "converged";
    case HostState::kDraining:
      return "draining";
    case HostState::kStopped:
      return "stopped";
    case HostState::kSuspended:
      return "suspended";
  }
  return "unknown";
}

std::string_view KeptOutReasonName(KeptOutReason reason) {
  switch (reason) {
    case KeptOutReason::kMismatchedRules:
      return "mismatched rules";
    case KeptOutReason::kDuplicateId:
      return "duplicate id";
  }
  return "unknown";
}

Result<std::vector<uint8_t>> EncodeHeartbeat(const Heartbeat& hb, std::span<const uint8_t> key) {
  if (Status status = CheckEncodable(hb); !status.ok()) return status;
  Writer w;
  w.Bytes(kMagic, sizeof(kMagic));
  w.U8(kHeartbeatVersion);
  w.U8(static_cast<uint8_t>((hb.holds_map ? kFlagHoldsMap : 0) |
                            (hb.map_current ? kFlagMapCurrent : 0)));
  w.U16(0);  // total length, patched below
  w.U8(static_cast<uint8_t>(hb.state));
  w.U8(static_cast<uint8_t>(hb.cluster_name.size()));
  w.Bytes(reinterpret_cast<const uint8_t*>(hb.cluster_name.data()), hb.cluster_name.size());
  w.U16(hb.host_id);
  w.U8(static_cast<uint8_t>(hb.dedicated_address.family));
  w.Bytes(hb.dedicated_address.bytes.data(), hb.dedicated_address.size());
  w.U64(hb.boot_id);
  w.U64(hb.sequence);
  w.Bytes(hb.config_digest.data(), hb.config_digest.size());
  w.Bytes(hb.view_digest.data(), hb.view_digest.size());
  w.Bytes(hb.members.bytes().data(), hb.members.bytes().size());
  w.Bytes(hb.heard.bytes().data(), hb.heard.bytes().size());
  w.U8(static_cast<uint8_t>(hb.rule_params.size()));
  for (const HostRuleParams& p : hb.rule_params) {
    w.U8(static_cast<uint8_t>(p.weight));
    w.U8(static_cast<uint8_t>(p.priority));
  }
  w.U8(hb.moving_in_reports ? kMovingInReports : static_cast<uint8_t>(hb.moving.size()));
  for (const MovingBucket& m : hb.moving) {
    w.U16(m.rule_index);
    w.U16(m.bucket);
  }
  w.U8(static_cast<uint8_t>(hb.kept_out.size()));
  for (const KeptOutReport& k : hb.kept_out) {
    w.U16(k.host_id);
    w.U8(static_cast<uint8_t>(k.reason));
    w.U64(k.boot_id);
  }
  const bool health = AnyChecked(hb.rule_health);
  w.U8(health ? 1 : 0);  // extension count
  if (health) {
    w.U8(kExtensionRuleHealth);
    w.U8(static_cast<uint8_t>(hb.rule_health.size()));
    for (RuleHealth h : hb.rule_health) w.U8(static_cast<uint8_t>(h));
  }
  std::vector<uint8_t>& out = w.out();
  const size_t total = out.size() + kHeartbeatTagSize;
  out[6] = static_cast<uint8_t>(total >> 8);
  out[7] = static_cast<uint8_t>(total);
  const Digest tag = HmacSha256(key, out);
  out.insert(out.end(), tag.begin(), tag.end());
  return std::move(out);
}

Result<Heartbeat> DecodeHeartbeat(std::span<const uint8_t> bytes, std::span<const uint8_t> key,
                                  std::string_view expected_cluster_name) {
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return Malformed("bad magic: not an NLBH datagram");
  }
  if (bytes.size() < kHeartbeatHeaderSize + kHeartbeatTagSize) {
    return Malformed("too short: " + std::to_string(bytes.size()) + " bytes");
  }
  if (bytes[4] != kHeartbeatVersion) {
    return Malformed("unsupported version " + std::to_string(bytes[4]) + " (this agent speaks " +
                     std::to_string(kHeartbeatVersion) + ")");
  }
  const size_t length = (static_cast<size_t>(bytes[6]) << 8) | bytes[7];
  if (length != bytes.size()) {
    return Malformed("length field says " + std::to_string(length) + " bytes, datagram has " +
                     std::to_string(bytes.size()));
  }
  if (length > kMaxHeartbeatDatagram) {
    return Malformed("too long: " + std::to_string(length) + " bytes, at most " +
                     std::to_string(kMaxHeartbeatDatagram));
  }
  const std::span<const uint8_t> signed_part = bytes.first(length - kHeartbeatTagSize);
  const Digest expected_tag = HmacSha256(key, signed_part);
  if (!TagMatches(expected_tag, bytes.subspan(signed_part.size()))) {
    return Status::Error(ErrorCode::kAuthentication,
                         "heartbeat HMAC does not match (wrong cluster key or altered bytes)");
  }

  const uint8_t flags = bytes[5];
  if ((flags & ~kKnownFlags) != 0) return Malformed("unknown flags " + std::to_string(flags));
  Heartbeat hb;
  hb.holds_map = (flags & kFlagHoldsMap) != 0;
  hb.map_current = (flags & kFlagMapCurrent) != 0;
  Reader r(signed_part.subspan(8));
  uint8_t state = 0, name_length = 0, family = 0, count = 0;
  if (!r.U8("state", state)) return r.Truncated();
  if (!ValidState(state)) return Malformed("state " + std::to_string(state) + " is unknown");
  hb.state = static_cast<HostState>(state);
  if (!r.U8("cluster name length", name_length)) return r.Truncated();
  if (name_length == 0 || name_length > kMaxClusterNameLength) {
    return Malformed("cluster name length " + std::to_string(name_length) + " is not 1..63");
  }
  hb.cluster_name.resize(name_length);
  if (!r.Bytes("cluster name", reinterpret_cast<uint8_t*>(hb.cluster_name.data()), name_length)) {
    return r.Truncated();
  }
  if (!r.U16("host id", hb.host_id)) return r.Truncated();
  if (hb.host_id == 0 || hb.host_id > kMaxHostId) {
    return Malformed("host id " + std::to_string(hb.host_id) + " is not in 1..256");
  }
  if (!r.U8("address family", family)) return r.Truncated();
  if (family != 4 && family != 6) {
    return Malformed("address family " + std::to_string(family) + " is neither 4 nor 6");
  }
  hb.dedicated_address.family = static_cast<IpAddress::Family>(family);
  if (!r.Bytes("dedicated address", hb.dedicated_address.bytes.data(),
               hb.dedicated_address.size())) {
    return r.Truncated();
  }
  if (!r.U64("boot id", hb.boot_id) || !r.U64("sequence", hb.sequence) ||
      !r.Bytes("config digest", hb.config_digest.data(), hb.config_digest.size()) ||
      !r.Bytes("view digest", hb.view_digest.data(), hb.view_digest.size())) {
    return r.Truncated();
  }
  HostSet::Bytes set_bytes{};
  if (!r.Bytes("members", set_bytes.data(), set_bytes.size())) return r.Truncated();
  hb.members = HostSet::FromBytes(set_bytes);
  if (!r.Bytes("heard", set_bytes.data(), set_bytes.size())) return r.Truncated();
  hb.heard = HostSet::FromBytes(set_bytes);

  if (!r.U8("rule count", count)) return r.Truncated();
  if (count > kMaxHeartbeatRules) {
    return Malformed("rule count " + std::to_string(count) + " is too large (at most " +
                     std::to_string(kMaxHeartbeatRules) + ")");
  }
  hb.rule_params.resize(count);
  for (HostRuleParams& p : hb.rule_params) {
    uint8_t weight = 0, priority = 0;
    if (!r.U8("rule weight", weight) || !r.U8("rule priority", priority)) return r.Truncated();
    p.weight = weight;
    p.priority = priority;
  }
  if (!r.U8("moving count", count)) return r.Truncated();
  if (count == kMovingInReports) {
    hb.moving_in_reports = true;
    count = 0;
  }
  if (count > kMaxMovingBuckets) {
    return Malformed("moving count " + std::to_string(count) + " is too large (at most " +
                     std::to_string(kMaxMovingBuckets) + ")");
  }
  hb.moving.resize(count);
  for (MovingBucket& m : hb.moving) {
    if (!r.U16("moving rule index", m.rule_index) || !r.U16("moving bucket", m.bucket)) {
      return r.Truncated();
    }
    if (m.rule_index >= hb.rule_params.size() || m.bucket >= kBucketCount) {
      return Malformed("moving entry {" + std::to_string(m.rule_index) + ", " +
                       std::to_string(m.bucket) + "} names no rule bucket");
    }
  }
  if (!r.U8("kept-out count", count)) return r.Truncated();
  if (count > kMaxKeptOutReports) {
    return Malformed("kept-out count " + std::to_string(count) + " is too large (at most " +
                     std::to_string(kMaxKeptOutReports) + ")");
  }
  hb.kept_out.resize(count);
  for (KeptOutReport& k : hb.kept_out) {
    uint8_t reason = 0;
    if (!r.U16("kept-out host id", k.host_id) || !r.U8("kept-out reason", reason) ||
        !r.U64("kept-out boot id", k.boot_id)) {
      return r.Truncated();
    }
    if (k.host_id == 0 || k.host_id > kMaxHostId || !ValidReason(reason)) {
      return Malformed("kept-out entry for host " + std::to_string(k.host_id) + " is invalid");
    }
    k.reason = static_cast<KeptOutReason>(reason);
  }
  if (!r.U8("extension count", count)) return r.Truncated();
  if (count > kMaxHeartbeatExtensions) {
    return Malformed("extension count " + std::to_string(count) + " is too large (at most " +
                     std::to_string(kMaxHeartbeatExtensions) + ")");
  }
  for (uint8_t e = 0; e < count; ++e) {
    uint8_t type = 0, size = 0;
    if (!r.U8("extension type", type) || !r.U8("extension length", size)) return r.Truncated();
    std::array<uint8_t, 255> value{};
    if (!r.Bytes("extension value", value.data(), size)) return r.Truncated();
    if (type != kExtensionRuleHealth) continue;  // a later version's: skipped
    if (!hb.rule_health.empty()) return Malformed("rule health extension repeated");
    if (size != hb.rule_params.size()) {
      return Malformed("rule health extension of " + std::to_string(size) + " entries for " +
                       std::to_string(hb.rule_params.size()) + " rules");
    }
    for (uint8_t i = 0; i < size; ++i) {
      if (!ValidHealth(value[i])) {
        return Malformed("rule health " + std::to_string(value[i]) + " of rule " +
                         std::to_string(i) + " is unknown");
      }
      hb.rule_health.push_back(static_cast<RuleHealth>(value[i]));
    }
  }
  if (r.remaining() != 0) {
    return Malformed(std::to_string(r.remaining()) + " unexpected bytes after the last field");
  }
  if (hb.cluster_name != expected_cluster_name) {
    return Status::Error(ErrorCode::kInvalidArgument, "heartbeat for cluster '" + hb.cluster_name +
                                                          "', this is cluster '" +
                                                          std::string(expected_cluster_name) + "'");
  }
  return hb;
}

}  // namespace nlb
