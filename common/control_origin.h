// RequestOrigin: where a control request came from, so that the agent can apply `suspend`
// (a suspended host ignores every remote command but `resume`). Plain value; any thread.
#pragma once

#include "common/ip_address.h"

namespace nlb {

struct RequestOrigin {
  enum class Channel : uint8_t { kLocal = 0, kRemote };
  Channel channel = Channel::kLocal;
  IpAddress peer;  // kRemote: the client's address (authenticated by TLS PSK); kLocal: kNone

  bool remote() const { return channel == Channel::kRemote; }
};

}  // namespace nlb
