#include "agent/bpf_map_writer.h"

#include <cstring>
#include <string>

#include "common/decision.h"
#include "common/packet.h"

namespace nlb::agent {
namespace {

uint8_t FamilyOf(const IpAddress& address) {
  return address.is_v4() ? NLB_FAMILY_V4 : (address.is_v6() ? NLB_FAMILY_V6 : 0);
}

void WriteBuckets(const RuleMap& map, nlb_rule_buckets* out) {
  for (uint32_t b = 0; b < NLB_BUCKET_COUNT; ++b) {
    nlb_bucket& bucket = out->bucket[b];
    bucket.owner = map.bucket_owner[b];
    bucket.flags = 0;
    if (map.moving != nullptr && map.moving->Contains(b)) bucket.flags |= NLB_BUCKET_MOVING;
    if (map.pending != nullptr && map.pending->Contains(b)) bucket.flags |= NLB_BUCKET_PENDING;
    bucket.reserved = 0;
  }
}

}  // namespace

Status WriteMapHalf(const MapSnapshot& snapshot, nlb_config* config,
                    std::span<nlb_rule_buckets> buckets, std::span<const uint8_t> counter_slots) {
  if (snapshot.rules.size() > NLB_MAX_RULES) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         std::to_string(snapshot.rules.size()) +
                             " port rules: the BPF data plane holds at most " +
                             std::to_string(NLB_MAX_RULES));
  }
  if (snapshot.vips.size() > NLB_MAX_VIPS) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         std::to_string(snapshot.vips.size()) +
                             " VIPs: the BPF data plane holds at most " +
                             std::to_string(NLB_MAX_VIPS));
  }
  std::memset(config, 0, sizeof(*config));
  config->local_host_id = snapshot.local_host_id;
  config->default_host_id = snapshot.default_host_id;
  config->serving = snapshot.serving ? 1 : 0;
  config->generation = snapshot.generation;
  config->vip_count = static_cast<uint8_t>(snapshot.vips.size());
  for (size_t i = 0; i < snapshot.vips.size(); ++i) {
    const IpAddress& vip = snapshot.vips[i];
    if (FamilyOf(vip) == 0) {
      return Status::Error(ErrorCode::kInvalidArgument, "VIP " + std::to_string(i) + " is empty");
    }
    std::memcpy(config->vips[i].address, vip.bytes.data(), 16);
    config->vips[i].family = FamilyOf(vip);
    config->fragment_rule[i][0] =
        static_cast<int8_t>(FragmentRuleIndex(snapshot, vip, kIpProtoTcp));
    config->fragment_rule[i][1] =
        static_cast<int8_t>(FragmentRuleIndex(snapshot, vip, kIpProtoUdp));
  }
  config->rule_count = static_cast<uint8_t>(snapshot.rules.size());
  for (size_t i = 0; i < snapshot.rules.size(); ++i) {
    const RuleMap& map = snapshot.rules[i];
    const PortRule& rule = map.rule;
    nlb_rule& out = config->rules[i];
    if (rule.vip.has_value()) {
      if (FamilyOf(*rule.vip) == 0) {
        return Status::Error(ErrorCode::kInvalidArgument,
                             "rule " + rule.name + ": its VIP is empty");
      }
      std::memcpy(out.vip, rule.vip->bytes.data(), 16);
      out.vip_family = FamilyOf(*rule.vip);
    }
    out.protocol = static_cast<uint8_t>(rule.protocol);
    out.mode = static_cast<uint8_t>(rule.mode);
    out.affinity = static_cast<uint8_t>(rule.affinity);
    out.ipv6_prefix = rule.ipv6_network_prefix;
    out.enabled = map.enabled ? 1 : 0;
    out.first_port = rule.first_port;
    out.last_port = rule.last_port;
    out.single_owner = map.single_owner;
    out.counter_slot =
        counter_slots.size() == snapshot.rules.size() ? counter_slots[i] : static_cast<uint8_t>(i);
    // Decide gives a bucket to nobody when the rule has no owners yet; so does has_buckets 0.
    out.has_buckets = map.bucket_owner.size() == NLB_BUCKET_COUNT ? 1 : 0;
    if (out.has_buckets) WriteBuckets(map, &buckets[i]);
  }
  return Status::Ok();
}

}  // namespace nlb::agent
