#include "common/json_writer.h"

#include <gtest/gtest.h>

namespace nlb {
namespace {

TEST(JsonWriterTest, NestedContainersGetCommasRight) {
  JsonWriter w;
  w.BeginObject()
      .Key("hosts").BeginArray().Uint(1).Uint(2).BeginObject().Key("id").Int(-3).EndObject()
      .EndArray()
      .Key("ok").Bool(true)
      .Key("none").Null()
      .Key("empty").BeginArray().EndArray()
      .EndObject();
  EXPECT_EQ(w.str(), R"({"hosts":[1,2,{"id":-3}],"ok":true,"none":null,"empty":[]})");
}

TEST(JsonWriterTest, EscapesStrings) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"plain", R"("plain")"},
      {"a\"b", R"("a\"b")"},
      {"back\\slash", R"("back\\slash")"},
      {"line\nnext\ttab\r", R"("line\nnext\ttab\r")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x1f", R"("\u001f")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendJsonString(out, c.in);
    EXPECT_EQ(out, c.out);
  }
}

}  // namespace
}  // namespace nlb
