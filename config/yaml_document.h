// YamlDocument: one YAML document read from text with yaml-cpp, in time and memory bounded by
// the text's size, whatever the text holds. The config loader's only way into yaml-cpp's parser.
//
// Why not YAML::LoadAll: in yaml-cpp 0.7 (Debian bookworm) a document that starts at a token no
// node can start with (',' or a '?' key at the top level, a stray ',' after a block) is parsed
// as a null document without consuming that token (SingleDocParser::HandleNode falls through to
// OnNull), and Parser::HandleNextDocument reports a document while any token is left, so LoadAll
// appends null documents forever until the allocation fails. Here the parser is driven one
// document at a time, at most three times, and a document that consumed nothing is a syntax
// error at that token. Upstream fixed the same loop later by checking progress the same way.
// Thread-safe: no shared state.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string_view>

#include "config/config_errors.h"

namespace nlb {

// Far above any real configuration; bounds parse time and memory for text from any source.
inline constexpr size_t kMaxConfigBytes = 1 << 20;

// The text's only document, or a null Node for an empty text. On any problem (too large, a YAML
// syntax error, a token nothing can parse, more than one document) adds it to errors and returns
// an undefined-or-null Node that the caller must not read. Never throws.
YAML::Node LoadSingleDocument(std::string_view text, ConfigErrors* errors);

}  // namespace nlb
