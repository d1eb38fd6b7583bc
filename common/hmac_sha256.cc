#include "common/hmac_sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace nlb {

Sha256Tag HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Sha256Tag tag{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
       tag.data(), &length);
  return tag;
}

bool TagMatches(const Sha256Tag& expected, std::span<const uint8_t> received) {
  return CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

}  // namespace nlb
