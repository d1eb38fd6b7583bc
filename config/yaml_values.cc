#include "config/yaml_values.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "common/edit_distance.h"

namespace nlb {

SourceLocation LocationOf(const YAML::Node& node, SourceLocation fallback) {
  if (!node.IsDefined() || node.Mark().is_null()) return fallback;
  return {node.Mark().line + 1, node.Mark().column + 1};
}

SourceLocation LocationOf(const FieldRef& field) { return LocationOf(field.node, field.fallback); }

std::string DescribeValue(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "'" + node.Scalar() + "'";
}

namespace {

// A scalar with a value; reports nothing/lists/mappings as the wrong kind.
const std::string* ScalarOf(const FieldRef& field, std::string_view expected,
                            ConfigErrors* errors) {
  if (!field.node.IsDefined() || field.node.IsNull()) {
    errors->Add(LocationOf(field), field.path, "has no value; expected " + std::string(expected));
    return nullptr;
  }
  if (!field.node.IsScalar()) {
    errors->Add(LocationOf(field), field.path,
                "expected " + std::string(expected) + ", found " + DescribeValue(field.node));
    return nullptr;
  }
  // An escaped "\0" would cut the value short wherever it reaches a C API (inet_pton, open).
  if (field.node.Scalar().find('\0') != std::string::npos) {
    errors->Add(LocationOf(field), field.path,
                "contains a NUL character; expected " + std::string(expected));
    return nullptr;
  }
  return &field.node.Scalar();
}

std::string JoinWords(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += " | ";
    out += w;
  }
  return out;
}

}  // namespace

std::optional<std::string_view> ClosestName(std::string_view word,
                                            std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 0;
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(word, c);
    if (!best.has_value() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  // Two edits catch most typos ("tolerence", "prot") without suggesting unrelated words.
  if (!best.has_value() || best_distance > 2 || best_distance >= word.size()) return std::nullopt;
  return best;
}

std::optional<uint32_t> ReadUnsigned(const FieldRef& field, uint32_t min, uint32_t max,
                                     std::string_view noun, ConfigErrors* errors) {
  const std::string range = "(" + std::to_string(min) + "-" + std::to_string(max) + ")";
  const std::string* text = ScalarOf(field, std::string(noun) + " " + range, errors);
  if (text == nullptr) return std::nullopt;
  uint64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec == std::errc::invalid_argument || ptr != end) {
    errors->Add(
        LocationOf(field), field.path,
        "'" + *text + "' is not a whole number; expected " + std::string(noun) + " " + range);
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    errors->Add(LocationOf(field), field.path,
                *text + " is not " + std::string(noun) + " " + range);
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

std::optional<std::string> ReadString(const FieldRef& field, ConfigErrors* errors) {
  const std::string* text = ScalarOf(field, "a string", errors);
  if (text == nullptr) return std::nullopt;
  if (text->empty()) {
    errors->Add(LocationOf(field), field.path, "is empty; expected a string");
    return std::nullopt;
  }
  return *text;
}

std::optional<bool> ReadBool(const FieldRef& field, ConfigErrors* errors) {
  const std::string* text = ScalarOf(field, "true or false", errors);
  if (text == nullptr) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  errors->Add(LocationOf(field), field.path, "'" + *text + "' is not true or false");
  return std::nullopt;
}

std::optional<IpAddress> ReadAddress(const FieldRef& field, ConfigErrors* errors) {
  const std::string* text = ScalarOf(field, "an IPv4 or IPv6 address", errors);
  if (text == nullptr) return std::nullopt;
  std::optional<IpAddress> address = IpAddress::Parse(*text);
  if (!address.has_value()) {
    errors->Add(
        LocationOf(field), field.path,
        "'" + *text + "' is not an IPv4 or IPv6 address (like 198.18.0.100 or 2001:2::100)");
    return std::nullopt;
  }
  // Addresses that can never be a host's or a VIP's: a VIP must be something clients can send
  // a unicast packet to, and each of these would make the cluster's capture filter swallow
  // unrelated traffic.
  const auto& b = address->bytes;
  const bool unspecified = *address == address->Masked(0);
  bool unusable = unspecified;
  if (address->is_v4()) {
    unusable = unusable || b[0] == 127 || b[0] >= 224;  // loopback, multicast, reserved, broadcast
  } else {
    const bool loopback = *address == IpAddress::Parse("::1");
    unusable = unusable || loopback || b[0] == 0xff;  // multicast
  }
  if (unusable) {
    errors->Add(LocationOf(field), field.path,
                *text +
                    " is not a unicast address (unspecified, loopback, multicast and "
                    "broadcast addresses cannot be used)");
    return std::nullopt;
  }
  return address;
}

std::optional<size_t> ReadChoiceIndex(const FieldRef& field,
                                      std::span<const std::string_view> words,
                                      ConfigErrors* errors) {
  const std::string* text = ScalarOf(field, "one of " + JoinWords(words), errors);
  if (text == nullptr) return std::nullopt;
  for (size_t i = 0; i < words.size(); ++i) {
    if (*text == words[i]) return i;
  }
  std::string message = "'" + *text + "' is not valid; expected one of " + JoinWords(words);
  if (std::optional<std::string_view> near = ClosestName(*text, words)) {
    message += " (did you mean '" + std::string(*near) + "'?)";
  }
  errors->Add(LocationOf(field), field.path, message);
  return std::nullopt;
}

}  // namespace nlb
