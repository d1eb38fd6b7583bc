// HealthProbe: one probe of a local service (TCP connect, HTTP(S) GET, or a command), run on the
// agent's io_context without ever blocking it, ended by its verdict or by its timeout.
//
// TCP and HTTP(S) are Asio asynchronous operations. HTTPS uses OpenSSL through asio::ssl without
// checking the certificate (the service is local; the probe asks "does it answer", not "is it
// who it claims"). A command is started with posix_spawn (absolute path, no shell, no PATH
// lookup, stdin/stdout/stderr on /dev/null, its own process group) and watched through a pidfd
// on the loop; at the timeout its whole process group is killed and reaped.
//
// Call StartHealthProbe from the io_context's thread; `done` runs exactly once on that thread,
// unless the io_context is destroyed first.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>

#include "common/health_check.h"

namespace nlb::agent {

using ProbeDone = std::function<void(ProbeOutcome outcome, std::chrono::milliseconds latency)>;

// tls: the client context for https probes (see MakeHealthTlsContext); unused otherwise.
// REQUIRES: tls outlives the probe.
void StartHealthProbe(boost::asio::io_context& io, const HealthCheckSpec& spec,
                      boost::asio::ssl::context& tls, ProbeDone done);

// A TLS client context that does not verify the peer's certificate.
boost::asio::ssl::context MakeHealthTlsContext();

}  // namespace nlb::agent
