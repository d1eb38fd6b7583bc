#include "agent/nft_scripts.h"

#include <cctype>
#include <cstdio>

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

}  // namespace

std::string NftTableName(const DiversionOptions& options) {
  std::string name = "nlb_" + options.cluster_name + "_" + options.interface;
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name;
}

namespace {

// The ingress drops of raw VIP traffic, one per line, without the leading "add rule".
std::vector<std::string> DropLines(const DiversionOptions& options) {
  std::vector<std::string> lines;
  const std::string v4 = Set(options.vips, true);
  const std::string v6 = Set(options.vips, false);
  if (!v4.empty()) {
    lines.push_back("ip daddr " + v4 + " drop");
    lines.push_back("arp operation request arp daddr ip " + v4 + " drop");
  }
  if (!v6.empty()) lines.push_back("ip6 daddr " + v6 + " drop");
  return lines;
}

// Every bucket listed on its own, never as ranges: nftables then keeps the anonymous set in its
// hash back end, one lookup per packet. An interval set of the ~5,000 ranges of a scattered
// share is a binary search with memcmp at each step, which took ~20% of the receiving core in
// the flood benchmark (perf: nft_array_lookup_cmp).
std::string Elements(const BucketSet& buckets) {
  std::string text;
  for (uint32_t b = 0; b < kBucketCount; ++b) {
    if (!buckets.Contains(b)) continue;
    if (!text.empty()) text += ", ";
    text += std::to_string(b);
  }
  return text;
}

// The parts of a rule's nft match for one address family: "ip daddr X ", the protocol and ports,
// and the hash expression of its affinity (with " mod 16384 seed S").
struct RuleMatch {
  std::string daddr;
  std::string unfragmented;
  std::string protocol_ports;
  std::string hash;
};

std::vector<RuleMatch> MatchesOf(const PortRule& rule, const std::vector<IpAddress>& vips) {
  std::string protocol;
  switch (rule.protocol) {
    case Protocol::kTcp:
      protocol = "meta l4proto tcp";
      break;
    case Protocol::kUdp:
      protocol = "meta l4proto udp";
      break;
    case Protocol::kBoth:
      protocol = "meta l4proto { tcp, udp }";
      break;
  }
  std::string ports = "th dport " + std::to_string(rule.first_port);
  if (rule.last_port != rule.first_port) ports += "-" + std::to_string(rule.last_port);
  std::vector<RuleMatch> out;
  for (const bool v4 : {true, false}) {
    std::string daddr;
    if (rule.vip) {
      if (rule.vip->is_v4() != v4) continue;
      daddr = rule.vip->ToString();
    } else {
      daddr = Set(vips, v4);
      if (daddr.empty()) continue;
    }
    const std::string family = v4 ? "ip" : "ip6";
    char seed[16];
    std::snprintf(seed, sizeof(seed), "0x%08x", kFlowHashSeed);
    const std::string key =
        rule.affinity == Affinity::kNone ? family + " saddr . th sport" : family + " saddr";
    out.push_back({family + " daddr " + daddr + " ",
                   v4 ? "ip frag-off & 0x3fff == 0 " : "exthdr frag missing ",
                   protocol + " " + ports,
                   "jhash " + key + " mod " + std::to_string(kBucketCount) + " seed " + seed});
  }
  return out;
}

std::string SetName(size_t rule, const FastPathRule& fast) {
  return (fast.rule.mode == FilteringMode::kSingleHost ? "fw" : "fp") + std::to_string(rule);
}

std::string SetDeclaration(const std::string& table, size_t i, const PortRule& rule) {
  const bool single = rule.mode == FilteringMode::kSingleHost;
  return "add set netdev " + table + " " + (single ? "fw" : "fp") + std::to_string(i) +
         (single ? " { type ifname; }\n" : " { typeof numgen inc mod 16384; }\n");
}

// The chain's lines for the rules, without the leading "add rule ... ingress".
std::vector<std::string> ChainLines(const DiversionOptions& options,
                                    const std::vector<PortRule>& rules) {
  std::vector<std::string> lines;
  // A frame tagged with a VLAN is not the cluster's (docs/data-path.md): no fast path line may
  // accept it (with a VLAN interface of that id on the host, its stack would answer). At this hook
  // the tag is usually in metadata already; `ether type` still sees it.
  const std::string v4 = Set(options.vips, true);
  const std::string v6 = Set(options.vips, false);
  if (!v4.empty()) lines.push_back("ether type 8021q ip daddr " + v4 + " drop");
  if (!v6.empty()) lines.push_back("ether type 8021q ip6 daddr " + v6 + " drop");
  // Rules after the last one with a fast path need no line: the drops below take their traffic.
  size_t end = 0;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (FastPathEligible(rules[i])) end = i + 1;
  }
  const std::string tail = " counter name fast_path meta pkttype set host accept";
  for (size_t i = 0; i < end; ++i) {
    const PortRule& rule = rules[i];
    const bool eligible = FastPathEligible(rule);
    const std::string set = std::to_string(i);
    for (const RuleMatch& m : MatchesOf(rule, options.vips)) {
      if (eligible && rule.mode == FilteringMode::kSingleHost) {
        lines.push_back("iifname @lease iifname @fw" + set + " " + m.daddr + m.unfragmented +
                        m.protocol_ports + tail);
      } else if (eligible) {
        lines.push_back("iifname @lease " + m.daddr + m.unfragmented + m.protocol_ports + " " +
                        m.hash + " @fp" + set + tail);
      }
      lines.push_back(m.daddr + m.protocol_ports + " drop");
    }
  }
  for (std::string& line : DropLines(options)) lines.push_back(std::move(line));
  return lines;
}

std::string ElementLines(const std::string& verb, const std::string& table, size_t i,
                         const FastPathRule& fast, const std::string& interface) {
  if (fast.rule.mode == FilteringMode::kSingleHost) {
    if (!fast.whole_rule) return "";
    return verb + " element netdev " + table + " " + SetName(i, fast) + " { \"" + interface +
           "\" }\n";
  }
  if (fast.buckets.Empty()) return "";
  return verb + " element netdev " + table + " " + SetName(i, fast) + " { " +
         Elements(fast.buckets) + " }\n";
}

// Declarations of the rule sets, their elements and the chain's lines, as "add" commands.
std::string RulesBody(const DiversionOptions& options, const std::vector<PortRule>& rules,
                      const std::vector<FastPathRule>& fast) {
  const std::string table = NftTableName(options);
  std::string s;
  for (size_t i = 0; i < rules.size(); ++i) s += SetDeclaration(table, i, rules[i]);
  for (size_t i = 0; i < rules.size() && i < fast.size(); ++i) {
    if (FastPathEligible(rules[i]) && fast[i].rule == rules[i]) {
      s += ElementLines("add", table, i, fast[i], options.interface);
    }
  }
  for (const std::string& line : ChainLines(options, rules)) {
    s += "add rule netdev " + table + " ingress " + line + "\n";
  }
  return s;
}

}  // namespace

std::string NftTableScript(const DiversionOptions& options, const std::vector<PortRule>& rules,
                           const std::vector<FastPathRule>& fast) {
  const std::string table = NftTableName(options);
  // "add, delete, add" makes the script succeed whether or not a table was left behind.
  std::string s = "add table netdev " + table + "\ndelete table netdev " + table + "\n";
  s += "add table netdev " + table + "\n";
  s += "add counter netdev " + table + " fast_path\n";
  s += "add set netdev " + table + " lease { type ifname; flags timeout; }\n";
  s += "add chain netdev " + table + " ingress { type filter hook ingress device \"" +
       options.interface + "\" priority -500; policy accept; }\n";
  if (options.cluster_mac && options.masked_source) {
    s += "add chain netdev " + table + " egress { type filter hook egress device \"" +
         options.interface + "\" priority 0; policy accept; }\n";
    s += "add rule netdev " + table + " egress ether saddr " + FormatMac(*options.cluster_mac) +
         " ether saddr set " + FormatMac(*options.masked_source) + "\n";
  }
  return s + RulesBody(options, rules, fast);
}

std::string NftRulesScript(const DiversionOptions& options, size_t old_rules,
                           const std::vector<PortRule>& rules,
                           const std::vector<FastPathRule>& fast) {
  const std::string table = NftTableName(options);
  std::string s = "flush chain netdev " + table + " ingress\n";
  // The sets of the old numbering go (the flushed chain no longer refers to them), whatever kind
  // each was: both names are tried through "add" first so that the delete cannot fail.
  for (size_t i = 0; i < old_rules; ++i) {
    for (const char* kind : {"fp", "fw"}) {
      const std::string name = kind + std::to_string(i);
      s += std::string("add set netdev ") + table + " " + name +
           (kind[1] == 'w' ? " { type ifname; }\n" : " { typeof numgen inc mod 16384; }\n");
      s += "delete set netdev " + table + " " + name + "\n";
    }
  }
  return s + RulesBody(options, rules, fast);
}

std::string NftBucketsScript(const DiversionOptions& options, const std::vector<FastPathRule>& from,
                             const std::vector<FastPathRule>& to) {
  const std::string table = NftTableName(options);
  std::string deletes;
  std::string adds;
  for (size_t i = 0; i < from.size() && i < to.size(); ++i) {
    if (!FastPathEligible(to[i].rule)) continue;
    const std::vector<FastPathRule> leaving = FastPathDifference({from[i]}, {to[i]});
    const std::vector<FastPathRule> gaining = FastPathDifference({to[i]}, {from[i]});
    for (const FastPathRule& f : leaving)
      deletes += ElementLines("delete", table, i, f, options.interface);
    for (const FastPathRule& f : gaining)
      adds += ElementLines("add", table, i, f, options.interface);
  }
  return deletes + adds;
}

std::vector<FastPathRule> AlignedToRules(const std::vector<PortRule>& rules,
                                         const std::vector<FastPathRule>& fast) {
  std::vector<FastPathRule> out(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    out[i].rule = rules[i];
    for (const FastPathRule& f : fast) {
      if (f.rule == rules[i]) out[i] = f;
    }
  }
  return out;
}

std::string NftLeaseScript(const DiversionOptions& options, std::chrono::milliseconds remaining) {
  const std::string table = NftTableName(options);
  std::string s = "flush set netdev " + table + " lease\n";
  if (remaining.count() > 0) {
    s += "add element netdev " + table + " lease { \"" + options.interface + "\" timeout " +
         std::to_string(remaining.count()) + "ms }\n";
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
