// IpAddress::Parse takes exactly an address: the whole text, nothing before, after or inside it.
#include "common/ip_address.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace nlb {
namespace {

using namespace std::string_literals;

TEST(IpAddressTest, ParseTakesExactlyAnAddress) {
  struct Case {
    std::string text;
    std::optional<std::string> parsed;  // as printed back; nullopt: refused
  };
  const Case cases[] = {
      {"198.18.0.100", "198.18.0.100"},
      {"2001:2::100", "2001:2::100"},
      {"2001:0002:0000::0100", "2001:2::100"},
      {"::ffff:198.18.0.1", "::ffff:198.18.0.1"},
      {"", std::nullopt},
      {"198.18.0.100\0garbage"s, std::nullopt},
      {"198.18.0.100\0"s, std::nullopt},
      {"\0"s
       "198.18.0.100",
       std::nullopt},
      {"2001:2::100\0:80"s, std::nullopt},
      {"198.18.0.100 ", std::nullopt},
      {" 198.18.0.100", std::nullopt},
      {"198.18.0.300", std::nullopt},
      {"198.18.0", std::nullopt},
      {"198.18.0.100/24", std::nullopt},
      {"[2001:2::100]", std::nullopt},
      {"2001:2::100%eth0", std::nullopt},
      {std::string(64, '1'), std::nullopt},
  };
  for (const Case& c : cases) {
    const std::optional<IpAddress> got = IpAddress::Parse(c.text);
    ASSERT_EQ(got.has_value(), c.parsed.has_value()) << testing::PrintToString(c.text);
    if (got) {
      EXPECT_EQ(got->ToString(), *c.parsed);
    }
  }
}

}  // namespace
}  // namespace nlb
