// The heartbeat destination computed from an address and its prefix (agent/interface_info.h).
#include "agent/interface_info.h"

#include <gtest/gtest.h>

#include <string>

namespace nlb::agent {
namespace {

TEST(DirectedBroadcastTest, Table) {
  const struct {
    const char* address;
    uint8_t prefix;
    const char* broadcast;  // nullptr: refused
  } cases[] = {
      {"198.18.0.1", 24, "198.18.0.255"},
      {"198.18.0.1", 15, "198.19.255.255"},
      {"198.18.7.9", 22, "198.18.7.255"},
      {"198.18.0.130", 25, "198.18.0.255"},
      {"198.18.0.1", 30, "198.18.0.3"},
      {"198.18.0.1", 31, nullptr},
      {"198.18.0.1", 32, nullptr},
      {"10.1.2.3", 8, "10.255.255.255"},
      {"198.18.0.255", 0, "255.255.255.255"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.address) + "/" + std::to_string(c.prefix));
    std::optional<IpAddress> address = IpAddress::Parse(c.address);
    ASSERT_TRUE(address.has_value());
    Result<IpAddress> broadcast = DirectedBroadcast(*address, c.prefix);
    if (c.broadcast == nullptr) {
      ASSERT_FALSE(broadcast.ok());
      EXPECT_NE(broadcast.status().message().find("no broadcast address"), std::string::npos)
          << broadcast.status().message();
    } else {
      ASSERT_TRUE(broadcast.ok()) << broadcast.status().message();
      EXPECT_EQ(broadcast->ToString(), c.broadcast);
    }
  }
}

}  // namespace
}  // namespace nlb::agent
