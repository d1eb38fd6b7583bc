// Control TLS: how both ends of the remote control channel set up OpenSSL. TLS 1.3 only,
// authenticated by an external pre-shared key (RFC 8446 section 2.2, psk_dhe_ke: the PSK proves
// both sides know the cluster key, and an (EC)DHE exchange gives each connection fresh keys and
// forward secrecy). No certificates. Ciphersuites: TLS_AES_128_GCM_SHA256 and
// TLS_CHACHA20_POLY1305_SHA256 (the PSK is bound to SHA-256). Works with OpenSSL >= 1.1.1,
// including Debian bookworm's 3.0.
//
// Call once per SSL_CTX before any connection uses it; the SSL_CTX may then be shared by the
// connections of one thread (the callbacks only read *psk).
#pragma once

#include <openssl/ssl.h>

#include "common/control_psk.h"
#include "common/status.h"

namespace nlb {

enum class ControlTlsRole : uint8_t { kClient = 0, kServer };

// REQUIRES: psk outlives ctx and every connection made from it.
Status ConfigureControlTls(SSL_CTX* ctx, ControlTlsRole role, const ControlPsk* psk);

// The last OpenSSL error of this thread as text ("tlsv1 alert decrypt error"), or "" if none.
// Clears the thread's error queue.
std::string TakeOpenSslError();

}  // namespace nlb
