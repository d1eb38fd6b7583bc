#include "tools/settings_line_scan.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "common/host_set.h"

namespace nlb {
namespace {

constexpr size_t kMaxClusterName = 32;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The line without a trailing comment (a '#' at the start or after a blank).
std::string_view WithoutComment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

std::string_view Unquoted(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  return v;
}

// The value of "key:" in text such as "key: value" or "{ a: 1, key: value }"; nullopt if absent.
std::optional<std::string_view> ValueOf(std::string_view text, std::string_view key) {
  for (size_t at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
    const bool starts_word = at == 0 || text[at - 1] == ' ' || text[at - 1] == '{' ||
                             text[at - 1] == ',' || text[at - 1] == '\t';
    const size_t colon = at + key.size();
    if (!starts_word || colon >= text.size() || text[colon] != ':') continue;
    std::string_view rest = text.substr(colon + 1);
    rest = rest.substr(0, std::min(rest.find(','), rest.find('}')));
    return Unquoted(rest);
  }
  return std::nullopt;
}

std::optional<unsigned> Number(std::string_view text, unsigned low, unsigned high) {
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < low ||
      value > high) {
    return std::nullopt;
  }
  return value;
}

bool ClusterNameLike(std::string_view name) {
  return !name.empty() && name.size() <= kMaxClusterName &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

}  // namespace

std::optional<ScannedSettings> ScanSettingsLines(std::string_view text) {
  ScannedSettings found;
  std::optional<std::string> name;
  std::optional<unsigned> id;
  std::string section;      // the top-level key whose block we are in
  size_t child_indent = 0;  // indentation of that block's direct children; 0: not known yet
  std::string child;        // the direct child whose block we are in
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    line = WithoutComment(line);
    const size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos || Trim(line).empty()) continue;
    const std::string_view content = Trim(line.substr(indent));
    const size_t colon = content.find(':');
    const std::string_view key = colon == std::string_view::npos ? "" : content.substr(0, colon);
    if (indent == 0) {
      section = std::string(key);
      child_indent = 0;
      child.clear();
      continue;
    }
    if (child_indent == 0) child_indent = indent;
    if (indent == child_indent) child = std::string(key);
    if (section == "cluster" && indent == child_indent && key == "name" && !name) {
      name = std::string(Unquoted(content.substr(colon + 1)));
    } else if (section == "host" && indent == child_indent && key == "id" && !id) {
      id = Number(Unquoted(content.substr(colon + 1)), 1, kMaxHostId);
    } else if (section == "cluster" && child == "heartbeat" && !found.key_file) {
      if (auto v = ValueOf(content, "key_file"); v && !v->empty()) found.key_file = std::string(*v);
    } else if (section == "cluster" && child == "control" && !found.control_port) {
      if (auto v = ValueOf(content, "port")) {
        if (auto port = Number(*v, 1, 65535)) found.control_port = static_cast<uint16_t>(*port);
      }
    }
  }
  if (!name || !ClusterNameLike(*name) || !id) return std::nullopt;
  found.cluster_name = *name;
  found.host_id = static_cast<uint16_t>(*id);
  return found;
}

}  // namespace nlb
