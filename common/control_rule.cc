#include "common/control_rule.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "common/edit_distance.h"

namespace nlb {
namespace {

std::optional<uint16_t> ParsePort(std::string_view text) {
  // from_chars alone would accept "80abc" as 80 when we only checked ptr; require all of it.
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

Status Invalid(std::string_view text, std::string_view why) {
  return Status::Error(ErrorCode::kInvalidArgument,
                       "bad RULE '" + std::string(text) + "': " + std::string(why) +
                           "; use all, PORT, VIP:PORT, [IPv6 VIP]:PORT or a rule's NAME");
}

// The characters config/ allows in a rule name (config/port_rules_section.cc), at most 64.
bool HasRuleNameChars(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-_.:/[]").find(c) != std::string_view::npos;
  });
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<RuleSelector> ParseForms(std::string_view text);

}  // namespace

std::string UnknownRuleNameMessage(std::string_view name, std::span<const std::string> names) {
  std::string message = "no port rule is named '" + std::string(name) + "'";
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const std::string& candidate : names) {
    const size_t d = EditDistance(name, candidate);
    if (best == nullptr || d < best_distance) {
      best = &candidate;
      best_distance = d;
    }
  }
  // Two edits catch most typos without suggesting an unrelated name (as config/ does).
  std::string hint;
  if (best != nullptr && best_distance <= 2 && best_distance < name.size()) {
    hint = "did you mean '" + *best + "'?; ";
  }
  std::string listed;
  for (const std::string& n : names) listed += (listed.empty() ? "" : ", ") + n;
  return message + " (" + hint + "rules: " + (listed.empty() ? "none" : listed) + ")";
}

std::string RuleSelector::ToString() const {
  if (name) return *name;
  if (!port) return "all";
  if (!vip) return std::to_string(*port);
  const std::string address = vip->ToString();
  return (vip->is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(*port);
}

Result<RuleSelector> ParseRuleSelector(std::string_view text) {
  Result<RuleSelector> form = ParseForms(text);
  if (form.ok() || !HasRuleNameChars(text)) return form;
  // A word without a letter ("80-90", "198.18.0.100:") or ending in :DIGITS ("web:80") was meant
  // as PORT or VIP:PORT and keeps that error; anything else of a name's characters is a name,
  // which the agent looks up (and answers with the names it has when none matches).
  const size_t colon = text.rfind(':');
  const bool has_letter = std::any_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  });
  if (!has_letter || (colon != std::string_view::npos && AllDigits(text.substr(colon + 1)))) {
    return form;
  }
  RuleSelector selector;
  selector.name = std::string(text);
  return selector;
}

namespace {

Result<RuleSelector> ParseForms(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Invalid(std::string(text.substr(0, nul)) + "\\0...", "holds a NUL character");
  }
  if (text == "all") return RuleSelector{};
  RuleSelector selector;
  std::string_view port_text = text;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Invalid(text, "an IPv6 VIP is written [VIP]:PORT");
    }
    const auto vip = IpAddress::Parse(text.substr(1, close - 1));
    if (!vip || !vip->is_v6()) return Invalid(text, "not an IPv6 address inside [ ]");
    selector.vip = *vip;
    port_text = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return Invalid(text, "an IPv6 VIP is written [VIP]:PORT");
    const auto vip = IpAddress::Parse(text.substr(0, colon));
    if (!vip || !vip->is_v4()) return Invalid(text, "not an IPv4 address before ':'");
    selector.vip = *vip;
    port_text = text.substr(colon + 1);
  }
  selector.port = ParsePort(port_text);
  if (!selector.port)
    return Invalid(text, "'" + std::string(port_text) + "' is not a port (0-65535)");
  return selector;
}

}  // namespace

}  // namespace nlb
