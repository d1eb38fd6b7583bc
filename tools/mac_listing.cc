#include "tools/mac_listing.h"

#include <array>
#include <vector>

#include "common/cluster_mac.h"
#include "common/json_writer.h"
#include "tools/reply_view.h"

namespace nlb {

Result<std::string> ListClusterMacs(std::string_view vip_text, bool json) {
  const std::optional<IpAddress> vip = IpAddress::Parse(vip_text);
  if (!vip) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "ip2mac: '" + std::string(vip_text) + "' is not an IP address");
  }
  const std::array<IpAddress, 1> vips = {*vip};
  const auto multicast = ComputeClusterMac(vips, MacMode::kMulticast);
  const auto unicast = ComputeClusterMac(vips, MacMode::kUnicast);
  const auto igmp = ComputeClusterMac(vips, MacMode::kIgmp);
  if (!multicast || !unicast || !igmp) {
    return Status::Error(ErrorCode::kInternal, "ip2mac: no cluster MAC for " + vip->ToString());
  }
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("vip").String(vip->ToString());
    w.Key("multicast").String(FormatMac(multicast->mac));
    w.Key("unicast").String(FormatMac(unicast->mac));
    w.Key("igmp").String(FormatMac(igmp->mac));
    w.Key("igmp_group").String(igmp->igmp_group.ToString()).EndObject();
    return w.str() + "\n";
  }
  // The masked source shown with the host id as a placeholder: it differs per host.
  std::string masked = FormatMac(MaskedSourceMac(*unicast, 1));
  masked.replace(3, 2, "<host id>");
  const std::vector<std::vector<std::string>> rows = {
      {"MODE", "CLUSTER MAC", "NOTE"},
      {"multicast", FormatMac(multicast->mac), "hosts keep their own MAC"},
      {"unicast", FormatMac(unicast->mac), "hosts send from " + masked},
      {"igmp", FormatMac(igmp->mac), "hosts join " + igmp->igmp_group.ToString()},
  };
  return "VIP " + vip->ToString() + "\n" + FormatTable(rows, "");
}

}  // namespace nlb
