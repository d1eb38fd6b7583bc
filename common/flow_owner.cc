#include "common/flow_owner.h"

#include <algorithm>
#include <charconv>

namespace nlb {
namespace {

Status Invalid(std::string message) {
  return Status::Error(ErrorCode::kInvalidArgument, std::move(message));
}

struct Endpoint {
  IpAddress address;
  std::optional<uint16_t> port;
};

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

// ADDR, ADDR:PORT (IPv4), ADDR or [ADDR]:PORT (IPv6).
std::optional<Endpoint> ParseEndpoint(std::string_view text) {
  std::string_view address = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 2 > text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    address = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const size_t colon = text.find(':');
             colon != std::string_view::npos && text.rfind(':') == colon) {
    address = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  Endpoint e;
  const std::optional<IpAddress> ip = IpAddress::Parse(address);
  if (!ip) return std::nullopt;
  e.address = *ip;
  if (port) {
    e.port = ParsePort(*port);
    if (!e.port) return std::nullopt;
  }
  return e;
}

std::string EndpointText(const IpAddress& address, std::optional<uint16_t> port) {
  if (!port) return address.ToString();
  const std::string a = address.is_v6() ? "[" + address.ToString() + "]" : address.ToString();
  return a + ":" + std::to_string(*port);
}

void Put16(std::vector<uint8_t>* out, size_t at, uint16_t value) {
  (*out)[at] = static_cast<uint8_t>(value >> 8);
  (*out)[at + 1] = static_cast<uint8_t>(value & 0xff);
}

uint8_t ProtocolOf(const PortRule& rule, std::optional<uint8_t> asked) {
  if (rule.protocol == Protocol::kTcp) return kIpProtoTcp;
  if (rule.protocol == Protocol::kUdp) return kIpProtoUdp;
  return asked.value_or(kIpProtoTcp);
}

FlowOwner OwnerOf(const MapSnapshot& as_anyone, const OwnerQuery& query, const IpAddress& vip,
                  uint16_t port, uint8_t ip_protocol) {
  const std::vector<uint8_t> frame =
      FirstPacketOf(query.client, query.client_port.value_or(0), vip, port, ip_protocol);
  ParsedPacket packet;
  const Decision d = Decide(frame, as_anyone, &packet);
  FlowOwner owner;
  owner.vip = vip;
  owner.port = port;
  owner.ip_protocol = ip_protocol;
  if (d.rule_index < 0) {
    owner.owner = as_anyone.default_host_id;
    owner.reason = d.reason == DecisionReason::kNotForVip ? d.reason : DecisionReason::kDefaultHost;
    return owner;
  }
  const RuleMap& map = as_anyone.rules[static_cast<size_t>(d.rule_index)];
  owner.rule = map.rule.name;
  if (d.reason == DecisionReason::kRuleDisabled) {
    owner.reason = d.reason;
    return owner;
  }
  if (map.rule.mode == FilteringMode::kSingleHost) {
    owner.owner = map.single_owner;
    owner.reason = DecisionReason::kSingleHostOwner;
    return owner;
  }
  owner.bucket = d.bucket;
  owner.owner = d.bucket < map.bucket_owner.size() ? map.bucket_owner[d.bucket] : kNoHost;
  owner.reason = DecisionReason::kOwnedBucket;
  owner.moving = map.moving != nullptr && map.moving->Contains(d.bucket);
  owner.port_matters = map.rule.affinity == Affinity::kNone;
  return owner;
}

}  // namespace

Result<OwnerQuery> ParseOwnerQuery(std::span<const std::string> args) {
  if (args.empty()) return Invalid("owner needs CLIENT[:PORT], e.g. 198.18.2.1:40000");
  if (args.size() > 3) {
    return Invalid("owner takes CLIENT[:PORT] [VIP:PORT] [tcp|udp] ('" + args[3] + "' is extra)");
  }
  OwnerQuery query;
  const std::optional<Endpoint> client = ParseEndpoint(args[0]);
  if (!client) {
    return Invalid("owner: '" + args[0] +
                   "' is not CLIENT[:PORT] (198.18.2.1, 198.18.2.1:40000, [2001:2::5]:40000)");
  }
  query.client = client->address;
  query.client_port = client->port;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "tcp" || word == "udp") {
      if (i + 1 != args.size()) {
        return Invalid("owner: the protocol comes last ('" + args[i + 1] + "' follows it)");
      }
      query.ip_protocol = word == "tcp" ? kIpProtoTcp : kIpProtoUdp;
      continue;
    }
    if (query.vip) return Invalid("owner: one VIP:PORT only ('" + word + "' is a second)");
    const std::optional<Endpoint> vip = ParseEndpoint(word);
    if (!vip || !vip->port) {
      return Invalid("owner: '" + word +
                     "' is not VIP:PORT (198.18.0.100:80, [2001:2::100]:443) nor tcp or udp");
    }
    if (vip->address.family != query.client.family) {
      return Invalid("owner: client " + query.client.ToString() + " and VIP " +
                     vip->address.ToString() + " are of different address families");
    }
    query.vip = vip->address;
    query.port = vip->port;
  }
  return query;
}

std::vector<std::string> OwnerRequestWords(const OwnerQuery& query) {
  std::vector<std::string> words = {"owner", EndpointText(query.client, query.client_port)};
  if (query.vip) words.push_back(EndpointText(*query.vip, query.port));
  if (query.ip_protocol) words.emplace_back(*query.ip_protocol == kIpProtoUdp ? "udp" : "tcp");
  return words;
}

std::vector<uint8_t> FirstPacketOf(const IpAddress& client, uint16_t client_port,
                                   const IpAddress& vip, uint16_t port, uint8_t ip_protocol) {
  const bool v6 = client.is_v6();
  const size_t l3 = 14;
  const size_t ip_header = v6 ? 40 : 20;
  const size_t l4_header = ip_protocol == kIpProtoTcp ? 20 : 8;
  std::vector<uint8_t> frame(l3 + ip_header + l4_header, 0);
  Put16(&frame, 12, v6 ? 0x86dd : 0x0800);
  if (v6) {
    frame[l3] = 0x60;
    Put16(&frame, l3 + 4, static_cast<uint16_t>(l4_header));
    frame[l3 + 6] = ip_protocol;
    frame[l3 + 7] = 64;
    std::copy_n(client.bytes.begin(), 16, frame.begin() + l3 + 8);
    std::copy_n(vip.bytes.begin(), 16, frame.begin() + l3 + 24);
  } else {
    frame[l3] = 0x45;
    Put16(&frame, l3 + 2, static_cast<uint16_t>(ip_header + l4_header));
    frame[l3 + 8] = 64;
    frame[l3 + 9] = ip_protocol;
    std::copy_n(client.bytes.begin(), 4, frame.begin() + l3 + 12);
    std::copy_n(vip.bytes.begin(), 4, frame.begin() + l3 + 16);
  }
  const size_t l4 = l3 + ip_header;
  Put16(&frame, l4, client_port);
  Put16(&frame, l4 + 2, port);
  if (ip_protocol == kIpProtoTcp) {
    frame[l4 + 12] = 5 << 4;  // data offset: 20 bytes
    frame[l4 + 13] = kTcpSyn;
  } else {
    Put16(&frame, l4 + 4, static_cast<uint16_t>(l4_header));
  }
  return frame;
}

Result<std::vector<FlowOwner>> FindFlowOwners(const MapSnapshot& snapshot,
                                              const OwnerQuery& query) {
  // As serving and as no host: Decide then goes on to the rule for every flow and takes none as
  // its own, so the decision names the rule and bucket, and the map names the owner.
  MapSnapshot as_anyone = snapshot;
  as_anyone.serving = true;
  as_anyone.local_host_id = kNoHost;
  std::vector<FlowOwner> owners;
  if (query.vip) {
    bool known = false;
    for (const IpAddress& v : snapshot.vips) known |= v == *query.vip;
    if (!known) {
      return Status::Error(ErrorCode::kNotFound,
                           query.vip->ToString() + " is not a VIP of this cluster");
    }
    FlowOwner owner =
        OwnerOf(as_anyone, query, *query.vip, *query.port, query.ip_protocol.value_or(kIpProtoTcp));
    if (!query.ip_protocol && owner.rule.empty()) {
      FlowOwner udp = OwnerOf(as_anyone, query, *query.vip, *query.port, kIpProtoUdp);
      if (!udp.rule.empty()) owner = std::move(udp);
    }
    owners.push_back(std::move(owner));
    return owners;
  }
  for (const RuleMap& map : snapshot.rules) {
    for (const IpAddress& vip : snapshot.vips) {
      if (vip.family != query.client.family) continue;
      if (map.rule.vip && *map.rule.vip != vip) continue;
      const uint8_t protocol = ProtocolOf(map.rule, query.ip_protocol);
      FlowOwner owner = OwnerOf(as_anyone, query, vip, map.rule.first_port, protocol);
      // A more specific rule for this VIP takes the port first; that flow is that rule's.
      if (owner.rule != map.rule.name) continue;
      owners.push_back(std::move(owner));
    }
  }
  if (owners.empty()) {
    return Status::Error(ErrorCode::kNotFound, "no port rule covers a VIP of " +
                                                   query.client.ToString() + "'s address family");
  }
  return owners;
}

}  // namespace nlb
