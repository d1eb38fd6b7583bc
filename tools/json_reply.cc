#include "tools/json_reply.h"

namespace nlb {

std::optional<Json> ParseJson(std::string_view text) {
  // allow_exceptions=false: a syntax error gives a "discarded" value instead of throwing.
  Json value = Json::parse(text.begin(), text.end(), nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

const Json* JsonField(const Json& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  const auto it = value.find(std::string(key));
  return it == value.end() ? nullptr : &*it;
}

std::string JsonCellText(const Json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string joined;
    for (const Json& item : value) {
      if (!joined.empty()) joined += ", ";
      joined += JsonCellText(item);
    }
    return joined.empty() ? "-" : joined;
  }
  if (value.is_object()) return "{...}";
  return value.dump();
}

std::string JsonFieldText(const Json& value, std::string_view key, std::string_view fallback) {
  const Json* field = JsonField(value, key);
  return field == nullptr ? std::string(fallback) : JsonCellText(*field);
}

std::optional<uint64_t> JsonFieldUint(const Json& value, std::string_view key) {
  const Json* field = JsonField(value, key);
  if (field == nullptr || !field->is_number_integer()) return std::nullopt;
  if (field->is_number_unsigned()) return field->get<uint64_t>();
  const int64_t signed_value = field->get<int64_t>();
  if (signed_value < 0) return std::nullopt;
  return static_cast<uint64_t>(signed_value);
}

}  // namespace nlb
