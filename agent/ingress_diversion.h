// IngressDiversion: keeps the kernel from taking raw VIP traffic itself. An nftables netdev table
// with an ingress chain on the cluster interface drops IPv4/IPv6 packets to a VIP and ARP
// requests for a VIP. Packet taps see a frame before the netdev ingress hook (DESIGN.md "Linux
// facts"), so the capture still gets every one of them; the owned ones re-enter the stack through
// the TUN device.
//
// Unicast mode adds an egress chain that rewrites the Ethernet source of frames leaving with the
// cluster MAC (every host's interface carries it) to the host's masked source MAC, so switches
// never learn the cluster MAC and keep flooding it. netdev egress needs kernel >= 5.16.
//
// The table is named nlb_<cluster>_<interface> (per network namespace). Install deletes a
// leftover table of that name first (crash recovery); destruction deletes it. Control thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cluster_mac.h"
#include "common/ip_address.h"
#include "common/status.h"

namespace nlb::agent {

struct DiversionOptions {
  std::string cluster_name = "nlb";
  std::string interface;
  std::vector<IpAddress> vips;
  // Unicast mode: frames leaving with source `cluster_mac` get `masked_source` instead.
  std::optional<MacAddress> cluster_mac;
  std::optional<MacAddress> masked_source;
};

class IngressDiversion {
 public:
  // Fails with nft's own error text when the script is refused (say, no nftables support).
  static Result<std::unique_ptr<IngressDiversion>> Install(const DiversionOptions& options);
  ~IngressDiversion();
  IngressDiversion(const IngressDiversion&) = delete;
  IngressDiversion& operator=(const IngressDiversion&) = delete;

  const std::string& table() const { return table_; }

  // The nft script Install applies; exposed for tests and for `nlbctl params`.
  static std::string Script(const DiversionOptions& options);
  // nlb_<cluster>_<interface>, with every character nft does not take in a name replaced by '_'.
  static std::string TableName(const DiversionOptions& options);

 private:
  explicit IngressDiversion(std::string table) : table_(std::move(table)) {}
  std::string table_;
};

// Runs `nft -f -` with script on its standard input. Error: nft's output and exit status.
[[nodiscard]] Status RunNft(const std::string& script);

}  // namespace nlb::agent
