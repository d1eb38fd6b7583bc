#include "common/control_tls.h"

#include <openssl/err.h>

#include <string>

namespace nlb {
namespace {

// Our own ex_data slot: Asio keeps its verify callback in the SSL_CTX's app_data.
int PskIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

const ControlPsk* PskOf(SSL* ssl) {
  return static_cast<const ControlPsk*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), PskIndex()));
}

// A resumption-less "session" that carries the external PSK, as TLS 1.3 in OpenSSL wants it.
SSL_SESSION* PskSession(SSL* ssl, const ControlPsk& psk) {
  static constexpr unsigned char kAes128GcmSha256[] = {0x13, 0x01};
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kAes128GcmSha256);
  if (cipher == nullptr) return nullptr;
  SSL_SESSION* session = SSL_SESSION_new();
  if (session == nullptr) return nullptr;
  if (SSL_SESSION_set1_master_key(session, psk.data(), psk.size()) != 1 ||
      SSL_SESSION_set_cipher(session, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(session);
    return nullptr;
  }
  return session;
}

int UsePskSession(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* id_length,
                  SSL_SESSION** session) {
  *session = nullptr;
  const ControlPsk* psk = PskOf(ssl);
  // A second call names the digest the server chose; our PSK only goes with SHA-256.
  if (psk == nullptr || (md != nullptr && EVP_MD_get_type(md) != NID_sha256)) return 1;
  *session = PskSession(ssl, *psk);
  if (*session == nullptr) return 0;
  *id = reinterpret_cast<const unsigned char*>(kControlPskIdentity.data());
  *id_length = kControlPskIdentity.size();
  return 1;
}

int FindPskSession(SSL* ssl, const unsigned char* identity, size_t identity_length,
                   SSL_SESSION** session) {
  *session = nullptr;
  const ControlPsk* psk = PskOf(ssl);
  const std::string_view offered(reinterpret_cast<const char*>(identity), identity_length);
  // Unknown identity: no session, and with no certificate to fall back on the handshake fails.
  if (psk == nullptr || offered != kControlPskIdentity) return 1;
  *session = PskSession(ssl, *psk);
  return *session == nullptr ? 0 : 1;
}

}  // namespace

Status ConfigureControlTls(SSL_CTX* ctx, ControlTlsRole role, const ControlPsk* psk) {
  const bool ok =
      SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
      SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") == 1 &&
      PskIndex() >= 0 && SSL_CTX_set_ex_data(ctx, PskIndex(), const_cast<ControlPsk*>(psk)) == 1;
  if (!ok) {
    return Status::Error(ErrorCode::kInternal,
                         "cannot set up TLS for the control channel: " + TakeOpenSslError());
  }
  // One request per connection: resumption tickets would only be state to keep.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  if (role == ControlTlsRole::kServer) {
    SSL_CTX_set_psk_find_session_callback(ctx, FindPskSession);
  } else {
    SSL_CTX_set_psk_use_session_callback(ctx, UsePskSession);
  }
  return Status::Ok();
}

std::string TakeOpenSslError() {
  std::string text;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    text = reason != nullptr ? reason : "error " + std::to_string(e);
  }
  return text;
}

}  // namespace nlb
