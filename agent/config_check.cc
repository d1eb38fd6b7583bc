#include "agent/config_check.h"

#include <unistd.h>

#include <cerrno>

#include "agent/command_line.h"
#include "config/cluster_key.h"
#include "config/config_digest.h"
#include "config/config_loader.h"

namespace nlb {

int RunConfigCheck(const std::string& path, std::ostream& out, std::ostream& err) {
  Result<NodeConfig> config = LoadConfigFile(path);
  if (!config.ok()) {
    err << config.status().message() << "\n";
    return kExitConfigInvalid;
  }
  const std::string& key_file = config->cluster.heartbeat.key_file;
  if (::access(key_file.c_str(), R_OK) != 0 && errno == EACCES && ::geteuid() != 0) {
    err << path << ": warning: cluster key " << key_file
        << " is not readable by this user; run as root to check it\n";
  } else if (Result<std::string> key = ReadClusterKey(key_file); !key.ok()) {
    err << path << ": cluster.heartbeat.key_file: " << key.status().message() << "\n";
    return kExitConfigInvalid;
  }
  for (const std::string& line : config->warnings) err << line << "\n";
  out << path << ": ok (cluster " << config->cluster.name << ", host " << config->host.id << ", "
      << config->cluster.port_rules.size()
      << (config->cluster.port_rules.size() == 1 ? " rule" : " rules") << ", digest "
      << DigestHex(ClusterDigest(config->cluster)) << ")\n";
  return kExitOk;
}

}  // namespace nlb
