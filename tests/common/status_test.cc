#include "common/status.h"

#include <gtest/gtest.h>

#include "common/ip_address.h"

namespace nlb {
namespace {

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  Status s = Status::Error(ErrorCode::kNotFound, "interface eth9 does not exist");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not found: interface eth9 does not exist");
}

TEST(StatusTest, ResultCarriesValueOrStatus) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), 7);
  Result<int> bad(Status::Error(ErrorCode::kInvalidArgument, "no"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "no");
}

struct AddressCase {
  const char* text;
  bool valid;
  const char* canonical;
};

TEST(IpAddressTest, ParseAndFormat) {
  const AddressCase cases[] = {
      {"198.18.0.1", true, "198.18.0.1"},
      {"2001:2:0:0::1", true, "2001:2::1"},
      {"::", true, "::"},
      {"198.18.0.256", false, ""},
      {"198.18.0", false, ""},
      {"", false, ""},
      {"hello", false, ""},
      {"2001:2::1::2", false, ""},
  };
  for (const auto& c : cases) {
    auto parsed = IpAddress::Parse(c.text);
    EXPECT_EQ(parsed.has_value(), c.valid) << c.text;
    if (parsed) {
      EXPECT_EQ(parsed->ToString(), c.canonical) << c.text;
    }
  }
}

TEST(IpAddressTest, Masked) {
  EXPECT_EQ(IpAddress::Parse("198.18.7.9")->Masked(24).ToString(), "198.18.7.0");
  EXPECT_EQ(IpAddress::Parse("198.18.7.9")->Masked(15).ToString(), "198.18.0.0");
  EXPECT_EQ(IpAddress::Parse("2001:2:0:1:aaaa::1")->Masked(64).ToString(), "2001:2:0:1::");
  EXPECT_EQ(IpAddress::Parse("198.18.7.9")->Masked(32).ToString(), "198.18.7.9");
}

}  // namespace
}  // namespace nlb
