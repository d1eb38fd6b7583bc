#include "common/neighbour_frames.h"

#include <cstring>

namespace nlb {
namespace {

constexpr uint16_t kEthertypeArp = 0x0806;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kMinimumFrame = 60;  // without the FCS
constexpr uint8_t kNeighbourAdvertisement = 136;
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr size_t kAdvertisementLength = 32;  // ICMPv6 header, flags, target, one 8-byte option
constexpr MacAddress kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

void PutBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint8_t* PutEthernet(uint8_t* p, const MacAddress& dst, const MacAddress& src, uint16_t type) {
  std::memcpy(p, dst.data(), 6);
  std::memcpy(p + 6, src.data(), 6);
  PutBe16(p + 12, type);
  return p + kEthernetHeader;
}

size_t BuildArp(const NeighbourIdentity& id, uint16_t operation, const MacAddress& frame_dst,
                const IpAddress& sender_ip, const MacAddress& target_mac,
                const IpAddress& target_ip, std::span<uint8_t> out) {
  std::memset(out.data(), 0, kMinimumFrame);
  uint8_t* p = PutEthernet(out.data(), frame_dst, id.frame_source, kEthertypeArp);
  PutBe16(p, 1);           // hardware type: Ethernet
  PutBe16(p + 2, 0x0800);  // protocol type: IPv4
  p[4] = 6;
  p[5] = 4;
  PutBe16(p + 6, operation);
  std::memcpy(p + 8, id.cluster_mac.data(), 6);
  std::memcpy(p + 14, sender_ip.bytes.data(), 4);
  std::memcpy(p + 18, target_mac.data(), 6);
  std::memcpy(p + 24, target_ip.bytes.data(), 4);
  return kMinimumFrame;  // 42 bytes of ARP, padded as Ethernet requires
}

uint32_t SumBe16(const uint8_t* p, size_t length, uint32_t sum) {
  for (size_t i = 0; i + 1 < length; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (length % 2 != 0) sum += static_cast<uint32_t>(p[length - 1] << 8);
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

size_t BuildAdvertisement(const NeighbourIdentity& id, const IpAddress& vip,
                          const MacAddress& frame_dst, const uint8_t* dst_ip, bool solicited,
                          std::span<uint8_t> out) {
  uint8_t* ip = PutEthernet(out.data(), frame_dst, id.frame_source, kEthertypeIpv6);
  std::memset(ip, 0, 40 + kAdvertisementLength);
  ip[0] = 0x60;
  PutBe16(ip + 4, kAdvertisementLength);
  ip[6] = kIpProtoIcmpv6;
  ip[7] = 255;  // RFC 4861: receivers drop neighbour discovery with any other hop limit
  std::memcpy(ip + 8, vip.bytes.data(), 16);
  std::memcpy(ip + 24, dst_ip, 16);

  uint8_t* icmp = ip + 40;
  icmp[0] = kNeighbourAdvertisement;
  // Router 0; Solicited when answering; Override always: every host gives the same answer.
  icmp[4] = static_cast<uint8_t>((solicited ? 0x40 : 0x00) | 0x20);
  std::memcpy(icmp + 8, vip.bytes.data(), 16);
  icmp[24] = kOptionTargetLinkLayer;
  icmp[25] = 1;  // in units of 8 bytes
  std::memcpy(icmp + 26, id.cluster_mac.data(), 6);

  // Checksum over the pseudo-header (source, destination, upper-layer length, next header).
  uint32_t sum = SumBe16(ip + 8, 32, 0);
  sum += kAdvertisementLength;
  sum += kIpProtoIcmpv6;
  sum = SumBe16(icmp, kAdvertisementLength, sum);
  PutBe16(icmp + 2, Fold(sum));
  return kEthernetHeader + 40 + kAdvertisementLength;
}

}  // namespace

size_t BuildArpReply(const NeighbourIdentity& id, const IpAddress& vip,
                     const MacAddress& requester_mac, const IpAddress& requester_ip,
                     std::span<uint8_t> out) {
  return BuildArp(id, 2, requester_mac, vip, requester_mac, requester_ip, out);
}

size_t BuildGratuitousArp(const NeighbourIdentity& id, const IpAddress& vip,
                          std::span<uint8_t> out) {
  return BuildArp(id, 1, kBroadcastMac, vip, MacAddress{}, vip, out);
}

size_t BuildNeighbourAdvertisement(const NeighbourIdentity& id, const IpAddress& vip,
                                   const MacAddress& requester_mac, const IpAddress& requester_ip,
                                   std::span<uint8_t> out) {
  const IpAddress unspecified = IpAddress::V6(IpAddress().bytes.data());
  if (requester_ip == unspecified) return BuildUnsolicitedAdvertisement(id, vip, out);
  return BuildAdvertisement(id, vip, requester_mac, requester_ip.bytes.data(), true, out);
}

size_t BuildUnsolicitedAdvertisement(const NeighbourIdentity& id, const IpAddress& vip,
                                     std::span<uint8_t> out) {
  const IpAddress all_nodes = IpAddress::V6(kAllNodes);
  return BuildAdvertisement(id, vip, Ipv6MulticastMac(all_nodes), kAllNodes, false, out);
}

size_t BuildNeighbourAnswer(const NeighbourIdentity& id, const ParsedPacket& request,
                            std::span<uint8_t> out) {
  if (request.l3 == L3Kind::kArp && request.arp_operation == 1 && request.dst.is_v4() &&
      request.src.is_v4()) {
    return BuildArpReply(id, request.dst, request.src_mac, request.src, out);
  }
  if (request.l3 == L3Kind::kIpv6 && request.has_nd_target && request.nd_target.is_v6()) {
    return BuildNeighbourAdvertisement(id, request.nd_target, request.src_mac, request.src, out);
  }
  return 0;
}

}  // namespace nlb
