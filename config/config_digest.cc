#include "config/config_digest.h"

#include <openssl/evp.h>

#include <vector>

#include "common/bucket_assignment.h"
#include "config/rule_order.h"

namespace nlb {

std::string CanonicalClusterText(const ClusterConfig& cluster) {
  std::string out = "nlb-cluster-digest v1\n";
  // Hosts that assign buckets differently must not share a map: a different version is a
  // different digest, so the existing mismatched-rules rule keeps the minority out.
  out += "assignment=" + std::to_string(kAssignmentVersion) + "\n";
  out += "name=" + cluster.name + "\n";
  for (const IpAddress& vip : cluster.vips) out += "vip=" + vip.ToString() + "\n";
  out += "mac_mode=" + std::string(MacModeName(cluster.mac_mode)) + "\n";
  out += "heartbeat.period_ms=" + std::to_string(cluster.heartbeat.period_ms) + "\n";
  out += "heartbeat.tolerance=" + std::to_string(cluster.heartbeat.tolerance) + "\n";
  out += "heartbeat.port=" + std::to_string(cluster.heartbeat.port) + "\n";
  out += std::string("control.remote=") + (cluster.control.remote ? "true" : "false") + "\n";
  out += "control.port=" + std::to_string(cluster.control.port) + "\n";
  // Only when set: clusters that never wrote the section keep the digest they had before it
  // existed, so an upgrade does not split them.
  const ConnectionTrackingConfig& t = cluster.connection_tracking;
  const ConnectionTrackingConfig defaults;
  if (t.capacity != defaults.capacity || t.idle_timeout_s != defaults.idle_timeout_s ||
      t.close_delay_s != defaults.close_delay_s ||
      t.moving_timeout_s != defaults.moving_timeout_s) {
    out += "connection_tracking=" + std::to_string(t.capacity) + "|" +
           std::to_string(t.idle_timeout_s) + "|" + std::to_string(t.close_delay_s) + "|" +
           std::to_string(t.moving_timeout_s) + "\n";
  }
  // A line of its own (it came later): clusters that set the fields above keep their digest.
  if (t.half_open_hold_s != defaults.half_open_hold_s) {
    out += "connection_tracking.half_open_hold_s=" + std::to_string(t.half_open_hold_s) + "\n";
  }
  // Sorted here too, so that a ClusterConfig built by hand (tests, a reload) digests the same
  // as the loader's.
  std::vector<PortRule> rules = cluster.port_rules;
  SortPortRules(&rules);
  for (const PortRule& r : rules) {
    out += "rule=" + r.name + "|" + (r.vip.has_value() ? r.vip->ToString() : "all") + "|" +
           std::to_string(r.first_port) + "-" + std::to_string(r.last_port) + "|" +
           std::string(ProtocolName(r.protocol)) + "|" + std::string(FilteringModeName(r.mode)) +
           "|" + std::string(AffinityName(r.affinity)) + "|" +
           (r.affinity == Affinity::kNetwork ? std::to_string(r.ipv6_network_prefix) : "-") + "\n";
  }
  // Only when present, as above. Free text (path, body, command words) is length-prefixed, so no
  // character in it can forge a field boundary.
  auto text = [](const std::string& s) { return std::to_string(s.size()) + ":" + s; };
  for (const HealthCheckSpec& h : cluster.health_checks) {
    out += "health=" + h.rule + "|" + std::string(HealthCheckKindName(h.kind)) + "|" +
           h.address.ToString() + "|" + std::to_string(h.port) + "|" + text(h.path) + "|" +
           std::to_string(h.expect_status) + "|" + text(h.expect_body) + "|" +
           std::to_string(h.command.size());
    for (const std::string& word : h.command) out += "|" + text(word);
    out += "|" + std::to_string(h.interval_ms) + "|" + std::to_string(h.timeout_ms) + "|" +
           std::to_string(h.rise) + "|" + std::to_string(h.fall) + "\n";
  }
  return out;
}

Digest ClusterDigest(const ClusterConfig& cluster) {
  const std::string text = CanonicalClusterText(cluster);
  Digest digest{};
  unsigned int length = 0;
  // EVP_Digest fails only on allocation failure or a broken OpenSSL install; an all-zero digest
  // then never matches a peer's, which keeps this host out rather than in.
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    digest.fill(0);
  }
  return digest;
}

std::string DigestHex(const Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (uint8_t byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  return out;
}

}  // namespace nlb
