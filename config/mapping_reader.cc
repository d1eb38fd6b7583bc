#include "config/mapping_reader.h"

#include <algorithm>
#include <map>

namespace nlb {

MappingReader::MappingReader(const FieldRef& mapping,
                             std::initializer_list<std::string_view> known_keys,
                             ConfigErrors* errors)
    : node_(!mapping.node.IsDefined() || mapping.node.IsNull() ? YAML::Node(YAML::NodeType::Map)
                                                               : mapping.node),
      path_(mapping.path),
      location_(LocationOf(mapping)),
      errors_(errors) {
  if (!node_.IsMap()) {
    errors_->Add(location_, path_, "expected a mapping (key: value lines), found " +
                                       DescribeValue(node_));
    valid_ = false;
    return;
  }
  const std::vector<std::string_view> known(known_keys);
  std::map<std::string, SourceLocation> seen;
  for (const auto& entry : node_) {
    const SourceLocation where = LocationOf(entry.first, location_);
    if (!entry.first.IsScalar()) {
      errors_->Add(where, path_, "a key must be a plain name, found " +
                                     DescribeValue(entry.first));
      continue;
    }
    const std::string& key = entry.first.Scalar();
    const std::string key_path = path_.empty() ? key : path_ + "." + key;
    auto [it, inserted] = seen.emplace(key, where);
    if (!inserted) {
      errors_->Add(where, key_path,
                   "given twice (first at line " + std::to_string(it->second.line) + ")");
      continue;
    }
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown field";
    if (std::optional<std::string_view> near = ClosestName(key, known)) {
      message += " (did you mean '" + std::string(*near) + "'?)";
    } else {
      message += "; valid fields here: ";
      for (size_t i = 0; i < known.size(); ++i) {
        message += (i == 0 ? "" : ", ");
        message += known[i];
      }
    }
    errors_->Add(where, key_path, message);
  }
}

bool MappingReader::Has(std::string_view key) const {
  if (!valid_) return false;
  const YAML::Node value = node_[std::string(key)];
  return value.IsDefined();
}

FieldRef MappingReader::Field(std::string_view key) const {
  const std::string key_path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  if (!valid_) return FieldRef{YAML::Node(), key_path, location_};
  const YAML::Node value = node_[std::string(key)];
  // yaml-cpp answers an absent key with an "invalid" node that throws on most uses; hand out a
  // fresh undefined node instead, which the readers report against this mapping's position.
  // (Assigning to a yaml-cpp Node writes through to the node it refers to, hence no "=" here.)
  if (!value.IsDefined()) {
    return FieldRef{YAML::Node(YAML::NodeType::Undefined), key_path, location_};
  }
  return FieldRef{value, key_path, location_};
}

std::optional<FieldRef> MappingReader::Require(std::string_view key) const {
  if (!valid_) return std::nullopt;
  FieldRef field = Field(key);
  if (!field.node.IsDefined()) {
    errors_->Add(location_, field.path, "required field is missing");
    return std::nullopt;
  }
  return field;
}

}  // namespace nlb
