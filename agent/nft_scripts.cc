#include "agent/nft_scripts.h"

#include <cctype>

namespace nlb::agent {
namespace {

std::string Set(const std::vector<IpAddress>& vips, bool v4) {
  std::string text;
  for (const IpAddress& vip : vips) {
    if (vip.is_v4() != v4 || !(vip.is_v4() || vip.is_v6())) continue;
    if (!text.empty()) text += ", ";
    text += vip.ToString();
  }
  return text.empty() ? text : "{ " + text + " }";
}

// The ingress chain's lines, without the leading "add rule ... ingress".
std::vector<std::string> DropLines(const DiversionOptions& options) {
  std::vector<std::string> lines;
  const std::string v4 = Set(options.vips, true);
  const std::string v6 = Set(options.vips, false);
  // A frame tagged with a VLAN is not the cluster's (docs/data-path.md). When the tag is still
  // in the frame at this hook (not moved into metadata), `ip daddr` does not see past it, and
  // with a VLAN interface of that id on the host its stack would answer: `ether type` does.
  if (!v4.empty()) lines.push_back("ether type 8021q ip daddr " + v4 + " drop");
  if (!v6.empty()) lines.push_back("ether type 8021q ip6 daddr " + v6 + " drop");
  if (!v4.empty()) {
    lines.push_back("ip daddr " + v4 + " drop");
    lines.push_back("arp operation request arp daddr ip " + v4 + " drop");
  }
  if (!v6.empty()) lines.push_back("ip6 daddr " + v6 + " drop");
  return lines;
}

}  // namespace

std::string NftTableName(const DiversionOptions& options) {
  std::string name = "nlb_" + options.cluster_name + "_" + options.interface;
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name;
}

std::string NftTableScript(const DiversionOptions& options) {
  const std::string table = NftTableName(options);
  // "add, delete, add" makes the script succeed whether or not a table was left behind.
  std::string s = "add table netdev " + table + "\ndelete table netdev " + table + "\n";
  s += "add table netdev " + table + "\n";
  s += "add chain netdev " + table + " ingress { type filter hook ingress device \"" +
       options.interface + "\" priority -500; policy accept; }\n";
  for (const std::string& line : DropLines(options)) {
    s += "add rule netdev " + table + " ingress " + line + "\n";
  }
  if (options.cluster_mac && options.masked_source) {
    s += "add chain netdev " + table + " egress { type filter hook egress device \"" +
         options.interface + "\" priority 0; policy accept; }\n";
    s += "add rule netdev " + table + " egress ether saddr " + FormatMac(*options.cluster_mac) +
         " ether saddr set " + FormatMac(*options.masked_source) + "\n";
  }
  return s;
}

std::string NftListChainsScript(const DiversionOptions& options) {
  const std::string table = NftTableName(options);
  std::string s = "list chain netdev " + table + " ingress\n";
  if (options.cluster_mac && options.masked_source) {
    s += "list chain netdev " + table + " egress\n";
  }
  return s;
}

}  // namespace nlb::agent
