#include "common/port_rule.h"

#include "common/packet.h"

namespace nlb {

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kBoth:
      return "both";
  }
  return "?";
}

std::string_view FilteringModeName(FilteringMode m) {
  switch (m) {
    case FilteringMode::kMultipleHost:
      return "multiple";
    case FilteringMode::kSingleHost:
      return "single";
    case FilteringMode::kDisabled:
      return "disabled";
  }
  return "?";
}

std::string_view AffinityName(Affinity a) {
  switch (a) {
    case Affinity::kNone:
      return "none";
    case Affinity::kSingle:
      return "single";
    case Affinity::kNetwork:
      return "network";
  }
  return "?";
}

namespace {

bool ProtocolCovers(Protocol p, uint8_t ip_protocol) {
  switch (p) {
    case Protocol::kTcp:
      return ip_protocol == kIpProtoTcp;
    case Protocol::kUdp:
      return ip_protocol == kIpProtoUdp;
    case Protocol::kBoth:
      return ip_protocol == kIpProtoTcp || ip_protocol == kIpProtoUdp;
  }
  return false;
}

bool ProtocolsOverlap(Protocol a, Protocol b) {
  return a == Protocol::kBoth || b == Protocol::kBoth || a == b;
}

}  // namespace

bool PortRule::Covers(const IpAddress& destination, uint8_t ip_protocol, uint16_t port) const {
  if (vip.has_value() && *vip != destination) return false;
  return ProtocolCovers(protocol, ip_protocol) && port >= first_port && port <= last_port;
}

bool PortRule::Overlaps(const PortRule& other) const {
  if (vip != other.vip) return false;
  if (!ProtocolsOverlap(protocol, other.protocol)) return false;
  return first_port <= other.last_port && other.first_port <= last_port;
}

std::string PortRule::Describe() const {
  std::string out = vip.has_value() ? vip->ToString() : "all";
  if (vip.has_value() && vip->is_v6()) out = "[" + out + "]";
  out += ":" + std::to_string(first_port) + "-" + std::to_string(last_port) + "/";
  out += ProtocolName(protocol);
  return out;
}

std::vector<ClientKey> ClientKeysOf(std::span<const PortRule> rules) {
  std::vector<ClientKey> keys;
  keys.reserve(rules.size());
  for (const PortRule& r : rules) keys.push_back(ClientKeyOf(r));
  return keys;
}

std::string DescribeClientKeyChanges(std::span<const PortRule> before,
                                     std::span<const PortRule> after) {
  auto describe = [](const PortRule& r) {
    std::string s(AffinityName(r.affinity));
    if (r.affinity == Affinity::kNetwork) s += " /" + std::to_string(r.ipv6_network_prefix);
    return s;
  };
  std::string out;
  for (const PortRule& a : after) {
    for (const PortRule& b : before) {
      if (b.name != a.name || ClientKeyOf(b) == ClientKeyOf(a)) continue;
      out += (out.empty() ? "" : ", ") + a.name + " (affinity " + describe(b) + " -> " +
             describe(a) + ")";
    }
  }
  return out;
}

}  // namespace nlb
