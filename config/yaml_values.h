// Typed reads of single YAML values (numbers, strings, booleans, choices, addresses), each
// reporting what is wrong, and what would be valid, to ConfigErrors instead of throwing.
// Internal to config/. Pure functions over yaml-cpp nodes; call from the parsing thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/ip_address.h"
#include "config/config_errors.h"

namespace nlb {

// A field about to be read: its node, its path for messages, and where to point when the node
// itself carries no position (a missing value).
struct FieldRef {
  YAML::Node node;
  std::string path;
  SourceLocation fallback;
};

SourceLocation LocationOf(const YAML::Node& node, SourceLocation fallback = {});
SourceLocation LocationOf(const FieldRef& field);

// "a mapping", "a list", "nothing", or the scalar quoted: "'abc'".
std::string DescribeValue(const YAML::Node& node);

// The candidate closest to word by edit distance, when close enough to be a likely typo.
std::optional<std::string_view> ClosestName(std::string_view word,
                                            std::span<const std::string_view> candidates);

// A whole number in [min, max]. noun names what it is for the message, e.g. "a port":
// "70000 is not a port (0-65535)".
std::optional<uint32_t> ReadUnsigned(const FieldRef& field, uint32_t min, uint32_t max,
                                     std::string_view noun, ConfigErrors* errors);

// A non-empty scalar, as written.
std::optional<std::string> ReadString(const FieldRef& field, ConfigErrors* errors);

// true or false.
std::optional<bool> ReadBool(const FieldRef& field, ConfigErrors* errors);

// An IPv4 or IPv6 address usable as a unicast host or virtual address.
std::optional<IpAddress> ReadAddress(const FieldRef& field, ConfigErrors* errors);

// One of a fixed set of words; the message lists them all.
template <typename E>
std::optional<E> ReadChoice(const FieldRef& field,
                            std::span<const std::pair<std::string_view, E>> choices,
                            ConfigErrors* errors);

// Non-template core of ReadChoice: the index of the matching word.
std::optional<size_t> ReadChoiceIndex(const FieldRef& field,
                                      std::span<const std::string_view> words,
                                      ConfigErrors* errors);

template <typename E>
std::optional<E> ReadChoice(const FieldRef& field,
                            std::span<const std::pair<std::string_view, E>> choices,
                            ConfigErrors* errors) {
  std::vector<std::string_view> words;
  for (const auto& c : choices) words.push_back(c.first);
  std::optional<size_t> index = ReadChoiceIndex(field, words, errors);
  if (!index.has_value()) return std::nullopt;
  return choices[*index].second;
}

}  // namespace nlb
