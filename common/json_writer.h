// JsonWriter: builds one JSON document as text, for nlbctl --json output and control replies.
//
// Deliberately small: objects, arrays, strings (escaped per RFC 8259), integers, booleans and
// null, written in order with commas placed for the caller. Not thread-safe (a local value).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nlb {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the next value's name. REQUIRES: inside an object, no pending key.
  JsonWriter& Key(std::string_view name);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  // REQUIRES: every object and array closed.
  const std::string& str() const { return out_; }

 private:
  void BeforeValue();
  std::string out_;
  // One entry per open container: true once it holds an element (so the next needs a comma).
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends value to out as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace nlb
