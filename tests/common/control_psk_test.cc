// DeriveControlPsk is part of the control protocol: pinned vectors, computed independently with
// Python's hmac module, keep nlbctl and nlbd of different releases agreeing.
#include "common/control_psk.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/control_socket_path.h"

namespace nlb {
namespace {

std::string Hex(const ControlPsk& psk) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : psk) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

TEST(ControlPskTest, MatchesPinnedVectors) {
  struct Case {
    std::string key;
    std::string psk_hex;
  };
  const std::vector<Case> cases = {
      // python3: hmac.new(key, b"nlb control v1", hashlib.sha256).hexdigest()
      {"0123456789abcdef", "28547b966a7f7173907c311b4e70a22c30e64c242e6bef94c68eef2455fdb254"},
      // The trailing newline is part of the key file, hence of the key.
      {"0123456789abcdef0123456789abcdef\n",
       "d8d051aa59581ca7be94bd0c1e69f47167124e2917da4801592aaf468dfd98e2"},
  };
  for (const Case& c : cases) EXPECT_EQ(Hex(DeriveControlPsk(c.key)), c.psk_hex);
}

TEST(ControlSocketPathTest, NamesClusterAndHost) {
  EXPECT_EQ(ControlSocketPath("web", 1), "/run/nlb/web-1.sock");
  EXPECT_EQ(ControlSocketPath("dual-stack", 256), "/run/nlb/dual-stack-256.sock");
}

}  // namespace
}  // namespace nlb
