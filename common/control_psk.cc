#include "common/control_psk.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace nlb {

ControlPsk DeriveControlPsk(std::string_view cluster_key) {
  ControlPsk psk{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), cluster_key.data(), static_cast<int>(cluster_key.size()),
       reinterpret_cast<const unsigned char*>(kControlPskLabel.data()), kControlPskLabel.size(),
       psk.data(), &length);
  return psk;
}

}  // namespace nlb
