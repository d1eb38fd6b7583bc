// JSON reading for nlbctl: the agents' replies (docs/control.md) parsed with nlohmann-json, the
// library made for the format. Objects keep the agent's field order (ordered_json), so tables show
// columns as the agent wrote them. Parse errors end here: no exception leaves these functions.
// Pure; any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace nlb {

using Json = nlohmann::ordered_json;

// nullopt when text is not one complete JSON value.
std::optional<Json> ParseJson(std::string_view text);

// The field of an object, or nullptr when value is not an object or has no such field.
const Json* JsonField(const Json& value, std::string_view key);

// A scalar as a table cell: strings as they are, numbers and booleans as JSON writes them, null
// as "-"; an array of scalars joined with ", " ("-" when empty); an object as "{...}".
std::string JsonCellText(const Json& value);

// A field's text, or fallback when absent.
std::string JsonFieldText(const Json& value, std::string_view key, std::string_view fallback);

// A non-negative integer field, or nullopt when absent or not one.
std::optional<uint64_t> JsonFieldUint(const Json& value, std::string_view key);

}  // namespace nlb
