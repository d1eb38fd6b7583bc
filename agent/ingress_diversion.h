// IngressDiversion: keeps the kernel from taking raw VIP traffic itself. An nftables netdev table
// with an ingress chain on the cluster interface drops IPv4/IPv6 packets to a VIP and ARP
// requests for a VIP. Packet taps see a frame before the netdev ingress hook (docs/design.md "Linux
// facts"), so the capture still gets every one of them; the owned ones re-enter the stack through
// the TUN device.
//
// Unicast mode adds an egress chain that rewrites the Ethernet source of frames leaving with the
// cluster MAC (every host's interface carries it) to the host's masked source MAC, so switches
// never learn the cluster MAC and keep flooding it. netdev egress needs kernel >= 5.16.
//
// Kernel fast path (common/fast_path.h, docs/data-path.md): UpdateFastPath puts, before those
// drops, one accept rule per port rule that computes the same jhash bucket as Decide() and
// accepts (`meta pkttype set host`) the buckets this host delivers in the kernel, each followed
// by a drop of the rest of that rule's traffic (so that no later, wider rule takes it). The whole
// chain is replaced in one nft transaction: the kernel switches from one set to the next
// atomically. Accepted packets are counted in the table's named counter `fast_path`.
//
// The table is named nlb_<cluster>_<interface> (per network namespace). Install deletes a
// leftover table of that name first (crash recovery); destruction deletes it. Control thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cluster_mac.h"
#include "common/fast_path.h"
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

  // Replaces the ingress chain: fast-path rules for `fast` (ComputeFastPath's, aligned with the
  // snapshot's rule order, which is the order of precedence), then the drops. On error the
  // kernel keeps the chain it had (nft applies a script whole or not at all).
  [[nodiscard]] Status UpdateFastPath(const std::vector<FastPathRule>& fast);
  // Stops the kernel from delivering `leaving` (per rule, the buckets to take away; whole_rule
  // for all of a single-host rule) with a few drop lines inserted at the head of the chain: a
  // small script, so much quicker than UpdateFastPath's whole chain. The next UpdateFastPath
  // removes them. REQUIRES: no rule with leaving buckets is preceded by an overlapping rule
  // (CutIsExact), since a head line would also catch that rule's packets.
  [[nodiscard]] Status CutFastPath(const std::vector<FastPathRule>& leaving);
  // Packets the fast path accepted since Install (the `fast_path` counter).
  Result<uint64_t> FastPathPackets() const;

  // The nft script Install applies; exposed for tests and for `nlbctl params`.
  static std::string Script(const DiversionOptions& options);
  // The nft script CutFastPath applies ("" when nothing leaves).
  static std::string CutScript(const DiversionOptions& options,
                               const std::vector<FastPathRule>& leaving);
  // The nft script UpdateFastPath applies.
  static std::string FastPathScript(const DiversionOptions& options,
                                    const std::vector<FastPathRule>& fast);
  // nlb_<cluster>_<interface>, with every character nft does not take in a name replaced by '_'.
  static std::string TableName(const DiversionOptions& options);

 private:
  explicit IngressDiversion(DiversionOptions options)
      : options_(std::move(options)), table_(TableName(options_)) {}
  DiversionOptions options_;
  std::string table_;
};

// Runs `nft -f -` with script on its standard input. Error: nft's output and exit status.
[[nodiscard]] Status RunNft(const std::string& script);
// The same, returning what nft printed (for `list` commands).
Result<std::string> RunNftOutput(const std::string& script);

}  // namespace nlb::agent
