#include "common/control_psk.h"

#include "common/hmac_sha256.h"

namespace nlb {

ControlPsk DeriveControlPsk(std::string_view cluster_key) {
  const auto bytes = [](std::string_view s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  return HmacSha256(bytes(cluster_key), bytes(kControlPskLabel));
}

}  // namespace nlb
