// MappingReader: one YAML mapping of the configuration (a section or a list entry) with its
// known keys. On construction it reports, to ConfigErrors, a node that is not a mapping, keys
// that are not known (with a "did you mean"), and keys given twice (yaml-cpp keeps both).
// Internal to config/; used on the parsing thread only.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config_errors.h"
#include "config/yaml_values.h"

namespace nlb {

class MappingReader {
 public:
  // An absent mapping (undefined or null node) is valid and empty, so optional sections read
  // as "all defaults".
  // REQUIRES: errors outlives the reader.
  MappingReader(const FieldRef& mapping, std::initializer_list<std::string_view> known_keys,
                ConfigErrors* errors);

  // False when the node is something other than a mapping or nothing (already reported).
  bool valid() const { return valid_; }
  bool Has(std::string_view key) const;
  // The value under key, to read with yaml_values.h. An absent key gives an undefined node
  // whose messages point at this mapping.
  // REQUIRES: key is one of known_keys.
  FieldRef Field(std::string_view key) const;
  // As Field, and reports "required field is missing" when absent.
  std::optional<FieldRef> Require(std::string_view key) const;
  SourceLocation location() const { return location_; }
  const std::string& path() const { return path_; }

 private:
  YAML::Node node_;
  std::string path_;
  SourceLocation location_;
  ConfigErrors* errors_;
  bool valid_ = true;
};

}  // namespace nlb
