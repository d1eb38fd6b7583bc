#include "common/control_rule.h"

#include <charconv>

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
                           "; use all, PORT, VIP:PORT or [IPv6 VIP]:PORT");
}

}  // namespace

std::string RuleSelector::ToString() const {
  if (!port) return "all";
  if (!vip) return std::to_string(*port);
  const std::string address = vip->ToString();
  return (vip->is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(*port);
}

Result<RuleSelector> ParseRuleSelector(std::string_view text) {
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

}  // namespace nlb
