#include "common/neighbour_frames.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "common/packet.h"
#include "tests/support/packet_builder.h"

namespace nlb {
namespace {

using test::Ip;
using test::PacketBuilder;

const NeighbourIdentity kId = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
                               {0x03, 0xbf, 198, 18, 0, 100}};
const MacAddress kClientMac = {0x02, 0x00, 0x00, 0x00, 0x02, 0x01};

std::vector<uint8_t> Frame(const std::array<uint8_t, kNeighbourFrameCapacity>& buffer,
                           size_t length) {
  return std::vector<uint8_t>(buffer.begin(), buffer.begin() + static_cast<long>(length));
}

TEST(NeighbourFramesTest, ArpReplyBytes) {
  std::array<uint8_t, kNeighbourFrameCapacity> out{};
  const size_t n = BuildArpReply(kId, Ip("198.18.0.100"), kClientMac, Ip("198.18.2.1"), out);
  const std::vector<uint8_t> expected = {
      0x02, 0x00, 0x00, 0x00, 0x02, 0x01,  // to the requester
      0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // from the host's own MAC
      0x08, 0x06,                          // ARP
      0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,  // Ethernet/IPv4, reply
      0x03, 0xbf, 198, 18, 0, 100, 198, 18, 0, 100,  // the VIP is at the cluster MAC
      0x02, 0x00, 0x00, 0x00, 0x02, 0x01, 198, 18, 2, 1,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // padding to 60
  EXPECT_EQ(Frame(out, n), expected);
}

TEST(NeighbourFramesTest, GratuitousArpIsABroadcastRequestForTheVip) {
  std::array<uint8_t, kNeighbourFrameCapacity> out{};
  const size_t n = BuildGratuitousArp(kId, Ip("198.18.0.101"), out);
  ASSERT_EQ(n, 60u);
  ParsedPacket parsed;
  ASSERT_EQ(ParseFrame(std::span<const uint8_t>(out.data(), n), &parsed), ParseVerdict::kOk);
  EXPECT_EQ(parsed.dst_mac, (MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(parsed.l3, L3Kind::kArp);
  EXPECT_EQ(parsed.arp_operation, 1);
  EXPECT_EQ(parsed.src, Ip("198.18.0.101"));
  EXPECT_EQ(parsed.dst, Ip("198.18.0.101"));
  EXPECT_EQ(Frame(out, n)[22], 0x03) << "sender hardware address is the cluster MAC";
}

TEST(NeighbourFramesTest, AnswersAParsedArpRequest) {
  const auto request =
      PacketBuilder().SrcMac(kClientMac).DstMac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
          .ArpRequest(Ip("198.18.2.1"), Ip("198.18.0.100")).Build();
  ParsedPacket parsed;
  ASSERT_EQ(ParseFrame(request, &parsed), ParseVerdict::kOk);
  std::array<uint8_t, kNeighbourFrameCapacity> out{};
  std::array<uint8_t, kNeighbourFrameCapacity> direct{};
  const size_t n = BuildNeighbourAnswer(kId, parsed, out);
  ASSERT_EQ(n, BuildArpReply(kId, Ip("198.18.0.100"), kClientMac, Ip("198.18.2.1"), direct));
  EXPECT_EQ(out, direct);
}

TEST(NeighbourFramesTest, AdvertisementBytesAndChecksum) {
  std::array<uint8_t, kNeighbourFrameCapacity> out{};
  const size_t n =
      BuildNeighbourAdvertisement(kId, Ip("2001:2::100"), kClientMac, Ip("2001:2::2:1"), out);
  ASSERT_EQ(n, 86u);
  const auto f = Frame(out, n);
  EXPECT_EQ(std::vector<uint8_t>(f.begin(), f.begin() + 14),
            (std::vector<uint8_t>{0x02, 0, 0, 0, 0x02, 0x01, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xdd}));
  EXPECT_EQ(f[14], 0x60);
  EXPECT_EQ(f[18], 0x00);
  EXPECT_EQ(f[19], 32) << "payload length";
  EXPECT_EQ(f[20], 58) << "ICMPv6";
  EXPECT_EQ(f[21], 255) << "hop limit";
  EXPECT_EQ(f[54], 136) << "neighbour advertisement";
  EXPECT_EQ(f[58], 0x60) << "solicited and override, not router";
  EXPECT_EQ(f[78], 2) << "target link-layer address option";
  EXPECT_EQ(f[79], 1);
  EXPECT_EQ(std::vector<uint8_t>(f.begin() + 80, f.end()),
            (std::vector<uint8_t>{0x03, 0xbf, 198, 18, 0, 100}));
  // A correct checksum makes the one's complement sum over pseudo-header and message 0xffff.
  std::vector<uint8_t> pseudo(f.begin() + 22, f.begin() + 54);  // source and destination
  pseudo.insert(pseudo.end(), {0, 0, 0, 32, 0, 0, 0, 58});
  pseudo.insert(pseudo.end(), f.begin() + 54, f.end());
  EXPECT_EQ(test::InternetChecksum(pseudo.data(), pseudo.size()), 0);

  ParsedPacket parsed;
  ASSERT_EQ(ParseFrame(f, &parsed), ParseVerdict::kOk);
  EXPECT_EQ(parsed.src, Ip("2001:2::100"));
  EXPECT_EQ(parsed.dst, Ip("2001:2::2:1"));
  EXPECT_EQ(parsed.icmp_type, 136);
}

TEST(NeighbourFramesTest, AnswersAParsedSolicitation) {
  const IpAddress vip = Ip("2001:2::100");
  const auto request = PacketBuilder().SrcMac(kClientMac)
                           .DstMac(Ipv6MulticastMac(SolicitedNodeGroup(vip)))
                           .Ipv6(Ip("2001:2::2:1"), SolicitedNodeGroup(vip))
                           .NeighbourSolicitation(vip).Build();
  ParsedPacket parsed;
  ASSERT_EQ(ParseFrame(request, &parsed), ParseVerdict::kOk);
  std::array<uint8_t, kNeighbourFrameCapacity> out{};
  std::array<uint8_t, kNeighbourFrameCapacity> direct{};
  const size_t n = BuildNeighbourAnswer(kId, parsed, out);
  ASSERT_EQ(n, BuildNeighbourAdvertisement(kId, vip, kClientMac, Ip("2001:2::2:1"), direct));
  EXPECT_EQ(out, direct);
}

TEST(NeighbourFramesTest, DuplicateAddressDetectionGetsAnUnsolicitedAdvertisement) {
  std::array<uint8_t, kNeighbourFrameCapacity> out{};
  const size_t n = BuildNeighbourAdvertisement(kId, Ip("2001:2::100"), kClientMac, Ip("::"), out);
  const auto f = Frame(out, n);
  EXPECT_EQ(std::vector<uint8_t>(f.begin(), f.begin() + 6),
            (std::vector<uint8_t>{0x33, 0x33, 0, 0, 0, 1}));
  EXPECT_EQ(f[58], 0x20) << "override only";
  ParsedPacket parsed;
  ASSERT_EQ(ParseFrame(f, &parsed), ParseVerdict::kOk);
  EXPECT_EQ(parsed.dst, Ip("ff02::1"));
}

TEST(NeighbourFramesTest, NothingToAnswerForOtherPackets) {
  const auto reply = PacketBuilder().ArpReply(Ip("198.18.2.1"), Ip("198.18.0.100")).Build();
  const auto tcp =
      PacketBuilder().Ipv4(Ip("198.18.2.1"), Ip("198.18.0.100")).Tcp(40000, 80).Build();
  std::array<uint8_t, kNeighbourFrameCapacity> out{};
  for (const auto& frame : {reply, tcp}) {
    ParsedPacket parsed;
    ASSERT_EQ(ParseFrame(frame, &parsed), ParseVerdict::kOk);
    EXPECT_EQ(BuildNeighbourAnswer(kId, parsed, out), 0u);
  }
}

}  // namespace
}  // namespace nlb
