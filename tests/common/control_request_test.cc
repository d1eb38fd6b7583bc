#include "common/control_request.h"

#include <gtest/gtest.h>

namespace nlb {
namespace {

TEST(ControlRequestTest, SplitsWordsAndRefusesEmptyLines) {
  struct Case {
    const char* line;
    std::vector<std::string> words;  // empty: refused
  };
  const Case cases[] = {
      {"query", {"query"}},
      {"  disable   198.18.0.100:80 ", {"disable", "198.18.0.100:80"}},
      {"enable\tall\r", {"enable", "all"}},
      {"", {}},
      {"   \t\r", {}},
  };
  for (const Case& c : cases) {
    Result<std::vector<std::string>> got = SplitControlRequest(c.line);
    if (c.words.empty()) {
      ASSERT_FALSE(got.ok()) << c.line;
      EXPECT_NE(got.status().message().find("empty request"), std::string::npos);
    } else {
      ASSERT_TRUE(got.ok()) << c.line;
      EXPECT_EQ(got.value(), c.words) << c.line;
    }
  }
}

TEST(ControlRequestTest, RefusesEmbeddedNuls) {
  using namespace std::string_literals;
  const std::string lines[] = {"disable 198.18.0.100\0garbage:80"s, "\0"s, "query\0"s, "\0query"s,
                               "enable all\0\0"s};
  for (const std::string& line : lines) {
    Result<std::vector<std::string>> got = SplitControlRequest(line);
    ASSERT_FALSE(got.ok()) << testing::PrintToString(line);
    EXPECT_NE(got.status().message().find("NUL byte"), std::string::npos) << got.status().message();
  }
}

}  // namespace
}  // namespace nlb
