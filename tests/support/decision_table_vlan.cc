// The decision tables' VLAN cases (issue 11), part of TableCases(): the cluster's VLAN is its
// interface's own, so a tagged frame for a VIP is another VLAN's, dropped on every host with
// foreign_vlan before it is answered or accepted; a tagged frame for another address is not ours,
// as untagged. Single-threaded test helpers.
#include "tests/support/decision_table.h"

namespace nlb::test::decision_table {

std::vector<Case> VlanCases() {
  const IpAddress solicited = SolicitedNodeMulticast(kVip6);
  return {
      {"802.1Q-tagged TCP to a VIP",
       PacketBuilder().Vlan(10).Ipv4(kClient, kVip).Tcp(40000, 443).Build(),
       -1,
       kNoHost,
       {},
       kDropForeignVlan},
      {"802.1ad + 802.1Q-tagged TCP to a VIP",
       PacketBuilder().Vlan(100, 0x88a8).Vlan(10).Ipv4(kClient, kVip).Tcp(40000, 80).Build(),
       -1,
       kNoHost,
       {},
       kDropForeignVlan},
      {"tagged TCP to a VIP's uncovered port (default host's traffic)",
       PacketBuilder().Vlan(10).Ipv4(kClient, kVip).Tcp(1, 9999).Build(),
       -1,
       kNoHost,
       {},
       kDropForeignVlan},
      {"tagged IPv6 to a VIP",
       PacketBuilder().Vlan(4094).Ipv6(kClient6, kVip6).Tcp(1234, 443).Build(),
       -1,
       kNoHost,
       {},
       kDropForeignVlan},
      {"tagged UDP fragment to a VIP",
       PacketBuilder()
           .Vlan(10)
           .Ipv4(kClient, kVip)
           .Fragment(0, true)
           .Udp(1, 53)
           .Payload(64)
           .Build(),
       -1,
       kNoHost,
       {},
       kDropForeignVlan},
      {"tagged ARP request for a VIP",
       PacketBuilder().Vlan(10).ArpRequest(kClient, kVip).Build(),
       -1,
       kNoHost,
       {},
       kDropForeignVlan},
      {"tagged neighbour solicitation for a VIP",
       PacketBuilder().Vlan(10).Ipv6(kClient6, solicited).NeighbourSolicitation(kVip6).Build(),
       -1,
       kNoHost,
       {},
       kDropForeignVlan},
      {"tagged TCP to an address that is not a VIP",
       PacketBuilder().Vlan(10).Ipv4(kClient, kNotVip).Tcp(1, 80).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"tagged ARP request for another address",
       PacketBuilder().Vlan(10).ArpRequest(kClient, kNotVip).Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
      {"tagged neighbour solicitation for another address",
       PacketBuilder()
           .Vlan(10)
           .Ipv6(kClient6, solicited)
           .NeighbourSolicitation(Ip("2001:2::7"))
           .Build(),
       -1,
       kNoHost,
       {},
       kDropNotForVip},
  };
}

}  // namespace nlb::test::decision_table
