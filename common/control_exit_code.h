// ControlExit: nlbctl's exit statuses, and how a reply's "code" maps onto them
// (docs/control.md "Requests and replies"). Pure; safe from any thread.
#pragma once

#include <string_view>

namespace nlb {

enum class ControlExit : int {
  kOk = 0,
  kInternal = 1,     // reply code "internal", or a reply nlbctl cannot read
  kInvalid = 2,      // reply code "invalid", or a bad nlbctl command line / configuration
  kNotFound = 3,     // reply code "not_found"
  kAlready = 4,      // reply code "already"
  kRefused = 5,      // reply code "refused", or the TLS handshake was refused (credentials)
  kUnreachable = 6,  // no connection: socket missing, connection refused, no answer to connect
  kTimedOut = 7,     // connected, but no complete reply within the timeout
  kNotInForce = 8,   // reply code "not_in_force": applied, but the cluster had not converged on
                     // it within the request's wait (docs/control.md "When a command returns")
};

// The exit status for a refusal's "code"; kInternal for a code this nlbctl does not know.
ControlExit ExitForReplyCode(std::string_view code);

// The "code" word nlbctl uses for an outcome in its own output ("unreachable", "timed_out",
// "refused", ...): the reply codes plus the two transport failures.
std::string_view ControlExitWord(ControlExit exit);

}  // namespace nlb
