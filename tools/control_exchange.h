// ControlExchange: one request to one agent and its reply, over the local Unix socket or the
// remote TLS channel (docs/control.md), bounded in time. Blocking; each call has its own
// io_context, so calls on different threads (nlbctl --cluster) do not interfere.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/control_exit_code.h"
#include "common/control_psk.h"
#include "common/ip_address.h"

namespace nlb {

struct ControlTarget {
  std::string socket_path;  // non-empty: the local agent's Unix socket
  IpAddress address;        // otherwise: the remote agent's address and control port
  uint16_t port = 0;
  ControlPsk psk{};  // remote only

  static ControlTarget Local(std::string path);
  static ControlTarget Remote(const IpAddress& address, uint16_t port, const ControlPsk& psk);
  // "/run/nlb/web-1.sock", "198.18.1.2:2505", "[2001:2::2]:2505".
  std::string Describe() const;
};

struct ExchangeResult {
  // kOk when a reply line came back (whatever it says). Otherwise kUnreachable (no
  // connection), kRefused (TLS handshake refused: credentials), kTimedOut (connected, no reply
  // in time) or kInternal (the agent closed without a complete reply).
  ControlExit transport = ControlExit::kOk;
  std::string reply;  // the JSON line, without its newline
  std::string error;  // a sentence naming the target, when transport != kOk

  bool replied() const { return transport == ControlExit::kOk; }
};

// Sends words joined by spaces plus a newline; returns within about timeout.
ExchangeResult ExchangeControlRequest(const ControlTarget& target, std::string_view request,
                                      std::chrono::milliseconds timeout);

}  // namespace nlb
