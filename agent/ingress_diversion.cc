#include "agent/ingress_diversion.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "agent/log.h"

extern char** environ;

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

std::string IngressDiversion::TableName(const DiversionOptions& options) {
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
  std::string text = "{ ";
  bool first = true;
  for (uint32_t b = 0; b < kBucketCount; ++b) {
    if (!buckets.Contains(b)) continue;
    if (!first) text += ", ";
    first = false;
    text += std::to_string(b);
  }
  return text + " }";
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

// The fast path's lines for one rule: per address family the rule covers, an accept of the
// delivered buckets (unfragmented packets only; when `accept`) and a drop of the rest of the
// rule's traffic.
void AppendFastPathLines(const FastPathRule& fast, bool accept,
                         const std::vector<IpAddress>& vips, std::vector<std::string>& lines) {
  const std::string tail = " counter name fast_path meta pkttype set host accept";
  for (const RuleMatch& m : MatchesOf(fast.rule, vips)) {
    if (!accept) {
      // no accept line: the kernel delivers nothing of this rule
    } else if (fast.whole_rule) {
      lines.push_back(m.daddr + m.unfragmented + m.protocol_ports + tail);
    } else {
      lines.push_back(m.daddr + m.unfragmented + m.protocol_ports + " " + m.hash + " " +
                      Elements(fast.buckets) + tail);
    }
    lines.push_back(m.daddr + m.protocol_ports + " drop");
  }
}

}  // namespace

std::string IngressDiversion::Script(const DiversionOptions& options) {
  const std::string table = TableName(options);
  // "add, delete, add" makes the script succeed whether or not a table was left behind.
  std::string s = "table netdev " + table + "\ndelete table netdev " + table + "\n";
  s += "table netdev " + table + " {\n";
  s += "  counter fast_path { }\n";
  s += "  chain ingress {\n";
  s += "    type filter hook ingress device \"" + options.interface +
       "\" priority -500; policy accept;\n";
  for (const std::string& line : DropLines(options)) s += "    " + line + "\n";
  s += "  }\n";
  if (options.cluster_mac && options.masked_source) {
    s += "  chain egress {\n";
    s += "    type filter hook egress device \"" + options.interface +
         "\" priority 0; policy accept;\n";
    s += "    ether saddr " + FormatMac(*options.cluster_mac) + " ether saddr set " +
         FormatMac(*options.masked_source) + "\n";
    s += "  }\n";
  }
  s += "}\n";
  return s;
}

std::string IngressDiversion::FastPathScript(const DiversionOptions& options,
                                             const std::vector<FastPathRule>& fast) {
  std::vector<std::string> lines;
  // Rules after the last one with a fast path need no line: the drops below take their traffic.
  size_t end = 0;
  for (size_t i = 0; i < fast.size(); ++i) {
    if (!fast[i].Empty() && FastPathEligible(fast[i].rule)) end = i + 1;
  }
  for (size_t i = 0; i < end; ++i) {
    const bool accept = !fast[i].Empty() && FastPathEligible(fast[i].rule);
    AppendFastPathLines(fast[i], accept, options.vips, lines);
  }
  for (std::string& line : DropLines(options)) lines.push_back(std::move(line));
  const std::string table = TableName(options);
  std::string s = "flush chain netdev " + table + " ingress\n";
  for (const std::string& line : lines) s += "add rule netdev " + table + " ingress " + line + "\n";
  return s;
}

std::string IngressDiversion::CutScript(const DiversionOptions& options,
                                        const std::vector<FastPathRule>& leaving) {
  const std::string table = TableName(options);
  std::string s;
  for (const FastPathRule& cut : leaving) {
    if (cut.Empty() || !FastPathEligible(cut.rule)) continue;
    for (const RuleMatch& m : MatchesOf(cut.rule, options.vips)) {
      s += "insert rule netdev " + table + " ingress " + m.daddr + m.protocol_ports;
      if (!cut.whole_rule) s += " " + m.hash + " " + Elements(cut.buckets);
      s += " drop\n";
    }
  }
  return s;
}

Status IngressDiversion::CutFastPath(const std::vector<FastPathRule>& leaving) {
  const std::string script = CutScript(options_, leaving);
  return script.empty() ? Status::Ok() : RunNft(script);
}

Status IngressDiversion::UpdateFastPath(const std::vector<FastPathRule>& fast) {
  return RunNft(FastPathScript(options_, fast));
}

Result<uint64_t> IngressDiversion::FastPathPackets() const {
  auto text = RunNftOutput("list counter netdev " + table_ + " fast_path\n");
  if (!text.ok()) return text.status();
  const size_t at = text.value().find("packets ");
  if (at == std::string::npos) {
    return Status::Error(ErrorCode::kUnavailable, "nft printed no packet count for " + table_);
  }
  return static_cast<uint64_t>(std::strtoull(text.value().c_str() + at + 8, nullptr, 10));
}

Result<std::unique_ptr<IngressDiversion>> IngressDiversion::Install(
    const DiversionOptions& options) {
  if (Status s = RunNft(Script(options)); !s.ok()) return s;
  return std::unique_ptr<IngressDiversion>(new IngressDiversion(options));
}

IngressDiversion::~IngressDiversion() {
  if (Status s = RunNft("delete table netdev " + table_ + "\n"); !s.ok()) {
    LogWarning("diversion", s.message());
  }
}

Status RunNft(const std::string& script) {
  auto output = RunNftOutput(script);
  return output.ok() ? Status::Ok() : output.status();
}

Result<std::string> RunNftOutput(const std::string& script) {
  int input[2];
  int output[2];
  if (pipe2(input, O_CLOEXEC) != 0) {
    return Status::Error(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno));
  }
  if (pipe2(output, O_CLOEXEC) != 0) {
    close(input[0]);
    close(input[1]);
    return Status::Error(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output[1], STDERR_FILENO);
  char nft[] = "nft";
  char file[] = "-f";
  char dash[] = "-";
  char* argv[] = {nft, file, dash, nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "nft", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(input[0]);
  close(output[1]);
  if (rc != 0) {
    close(input[1]);
    close(output[0]);
    return Status::Error(ErrorCode::kUnavailable, std::string("cannot run nft: ") +
                                                      std::strerror(rc));
  }
  // nft reads its whole input before it parses or prints anything, so writing everything before
  // reading cannot deadlock, even for a fast-path script far larger than a pipe's capacity.
  size_t offset = 0;
  while (offset < script.size()) {
    const ssize_t written = write(input[1], script.data() + offset, script.size() - offset);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) break;  // nft exited early: its output says why
    offset += static_cast<size_t>(written);
  }
  close(input[1]);
  std::string text;
  char buffer[512];
  ssize_t n;
  while ((n = read(output[0], buffer, sizeof(buffer))) > 0) text.append(buffer, size_t(n));
  close(output[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return Status::Error(ErrorCode::kUnavailable, "nft refused the script: " + text);
  }
  return text;
}

}  // namespace nlb::agent
