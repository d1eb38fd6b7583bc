// ConfigErrors: every problem found in one configuration source, each located by line, column
// and field path, so that one run of `nlbd --check-config` shows all of them instead of one per
// edit. Internal to config/; a loader owns one per parse on its own thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nlb {

// 1-based; line 0 means "no position known" (the message then carries none).
struct SourceLocation {
  int line = 0;
  int column = 0;
};

class ConfigErrors {
 public:
  explicit ConfigErrors(std::string source_name) : source_name_(std::move(source_name)) {}

  // field: a path such as "cluster.port_rules[2].ports"; empty for file-level problems.
  void Add(SourceLocation where, std::string_view field, std::string_view message);
  // A field that loads but does nothing any more (a retired feature's key): not an error, but
  // said where the operator looks (the log, `nlbd --check-config`, `nlbctl report`). Same form
  // as an error's line.
  void Warn(SourceLocation where, std::string_view field, std::string_view message);
  const std::vector<std::string>& warnings() const { return warnings_; }

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::string& source_name() const { return source_name_; }

  // Ok when empty; else kInvalidArgument whose message has one line per error, in source order:
  //   "<source>:<line>:<column>: <field>: <message>"
  Status ToStatus() const;

 private:
  struct Entry {
    SourceLocation where;
    std::string text;
  };
  std::string source_name_;
  std::vector<Entry> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace nlb
