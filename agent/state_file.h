// StateFile: the file in which nlbd keeps the operator's state (common/operator_state.h) so that
// a stop, a drainstop, a suspend or a drained or disabled rule survives a restart of nlbd
// (docs/configuration.md, "Operator state"). Save writes a temporary file next to it, fsyncs it
// and renames it over the old one (then fsyncs the directory), so a crash leaves the old state or
// the new one, never half of one. Called on the event loop thread, after an operator command
// (a few hundred bytes, rare: the fsync is the only wait).
#pragma once

#include <optional>
#include <string>

#include "common/operator_state.h"
#include "common/status.h"

namespace nlb::agent {

class StateFile {
 public:
  explicit StateFile(std::string path) : path_(std::move(path)) {}

  // The default path: /var/lib/nlb/state-<cluster>-<host id>.
  static std::string DefaultPath(const std::string& cluster_name, uint16_t host_id);

  // nullopt when there is no file (a first start). kMalformed (naming the path and the line) for
  // a file that is not a state file; another error when it cannot be read.
  [[nodiscard]] Result<std::optional<OperatorState>> Load() const;
  // Creates the directory (mode 0700) if it is missing, one level only.
  [[nodiscard]] Status Save(const OperatorState& state) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nlb::agent
