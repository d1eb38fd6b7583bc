#include "agent/ingress_diversion.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
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

std::string IngressDiversion::Script(const DiversionOptions& options) {
  const std::string table = TableName(options);
  const std::string v4 = Set(options.vips, true);
  const std::string v6 = Set(options.vips, false);
  // "add, delete, add" makes the script succeed whether or not a table was left behind.
  std::string s = "table netdev " + table + "\ndelete table netdev " + table + "\n";
  s += "table netdev " + table + " {\n";
  s += "  chain ingress {\n";
  s += "    type filter hook ingress device \"" + options.interface +
       "\" priority -500; policy accept;\n";
  if (!v4.empty()) {
    s += "    ip daddr " + v4 + " drop\n";
    s += "    arp operation request arp daddr ip " + v4 + " drop\n";
  }
  if (!v6.empty()) s += "    ip6 daddr " + v6 + " drop\n";
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

Result<std::unique_ptr<IngressDiversion>> IngressDiversion::Install(
    const DiversionOptions& options) {
  if (Status s = RunNft(Script(options)); !s.ok()) return s;
  return std::unique_ptr<IngressDiversion>(new IngressDiversion(TableName(options)));
}

IngressDiversion::~IngressDiversion() {
  if (Status s = RunNft("delete table netdev " + table_ + "\n"); !s.ok()) {
    LogWarning("diversion", s.message());
  }
}

Status RunNft(const std::string& script) {
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
  // The scripts are a few hundred bytes: far below a pipe's capacity, so writing everything
  // before reading cannot deadlock.
  [[maybe_unused]] ssize_t written = write(input[1], script.data(), script.size());
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
  return Status::Ok();
}

}  // namespace nlb::agent
