// Health probes against real local listeners (127.0.0.1, port 0) and real programs: every
// outcome is reached by the fault it names, timeouts end the probe (and kill the command), and
// the monitor turns a listener's disappearance into a drain or, alone, a fail-open verdict.
// Nothing sleeps: the loop runs until the awaited result arrives or a deadline passes.
#include "agent/health_probe.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/health_monitor.h"

namespace nlb::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

// Runs the loop until done() or 5 s; a deadline that holds on a busy machine.
template <typename Pred>
bool RunUntil(asio::io_context& io, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(milliseconds(50));
    if (io.stopped()) io.restart();
  }
  return done();
}

// Accepts connections and answers each with `reply` (then closes), or never answers when
// reply is nullopt.
class LocalServer {
 public:
  LocalServer(asio::io_context& io, std::optional<std::string> reply)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        reply_(std::move(reply)) {
    Accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void Close() { acceptor_.close(); }

 private:
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      held_.push_back(s);
      if (reply_.has_value()) {
        // Read the request's first bytes, then answer and close, as Connection: close asks.
        auto buffer = std::make_shared<std::array<char, 1024>>();
        s->async_read_some(asio::buffer(*buffer), [this, s, buffer](auto, size_t) {
          asio::async_write(*s, asio::buffer(*reply_), [s](auto, size_t) {
            boost::system::error_code ignored;
            s->shutdown(tcp::socket::shutdown_both, ignored);
            s->close(ignored);
          });
        });
      }
      Accept();
    });
  }
  tcp::acceptor acceptor_;
  std::optional<std::string> reply_;
  std::vector<std::shared_ptr<tcp::socket>> held_;
};

uint16_t ClosedPort(asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed when a goes out of scope
}

HealthCheckSpec Spec(HealthCheckKind kind, uint16_t port) {
  HealthCheckSpec spec;
  spec.rule = "web";
  spec.kind = kind;
  spec.port = port;
  spec.timeout_ms = 300;
  return spec;
}

struct Result {
  std::optional<ProbeOutcome> outcome;
  milliseconds latency{0};
};

Result RunProbe(asio::io_context& io, const HealthCheckSpec& spec) {
  asio::ssl::context tls = MakeHealthTlsContext();
  Result r;
  StartHealthProbe(io, spec, tls, [&](ProbeOutcome o, milliseconds latency) {
    EXPECT_FALSE(r.outcome.has_value()) << "done called twice";
    r.outcome = o;
    r.latency = latency;
  });
  EXPECT_TRUE(RunUntil(io, [&] { return r.outcome.has_value(); }));
  return r;
}

TEST(HealthProbe, TcpPassesOnAListenerAndIsRefusedOnAClosedPort) {
  asio::io_context io;
  LocalServer server(io, std::nullopt);
  EXPECT_EQ(RunProbe(io, Spec(HealthCheckKind::kTcp, server.port())).outcome,
            ProbeOutcome::kPassed);
  EXPECT_EQ(RunProbe(io, Spec(HealthCheckKind::kTcp, ClosedPort(io))).outcome,
            ProbeOutcome::kRefused);
}

struct HttpCase {
  const char* description;
  const char* reply;
  const char* expect_body;
  ProbeOutcome outcome;
};

TEST(HealthProbe, HttpJudgesTheRealReply) {
  const HttpCase cases[] = {
      {"200", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nready", "", ProbeOutcome::kPassed},
      {"body found", "HTTP/1.1 200 OK\r\n\r\nstatus ready", "ready", ProbeOutcome::kPassed},
      {"503", "HTTP/1.1 503 Busy\r\n\r\n", "", ProbeOutcome::kBadStatus},
      {"body missing", "HTTP/1.1 200 OK\r\n\r\nstarting", "ready", ProbeOutcome::kBodyMismatch},
      {"not http", "220 smtp.example ESMTP\r\n", "", ProbeOutcome::kBadReply},
  };
  for (const HttpCase& c : cases) {
    asio::io_context io;
    LocalServer server(io, std::string(c.reply));
    HealthCheckSpec spec = Spec(HealthCheckKind::kHttp, server.port());
    spec.expect_body = c.expect_body;
    EXPECT_EQ(RunProbe(io, spec).outcome, c.outcome) << c.description;
  }
}

TEST(HealthProbe, HttpsAgainstAPlainServerFailsItsHandshake) {
  asio::io_context io;
  LocalServer server(io, std::string("HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_EQ(RunProbe(io, Spec(HealthCheckKind::kHttps, server.port())).outcome,
            ProbeOutcome::kTlsFailed);
}

TEST(HealthProbe, SilentServerTimesOut) {
  asio::io_context io;
  LocalServer server(io, std::nullopt);  // accepts, never answers
  const Result r = RunProbe(io, Spec(HealthCheckKind::kHttp, server.port()));
  EXPECT_EQ(r.outcome, ProbeOutcome::kTimeout);
  EXPECT_GE(r.latency.count(), 290);
}

HealthCheckSpec Command(std::vector<std::string> words) {
  HealthCheckSpec spec = Spec(HealthCheckKind::kCommand, 0);
  spec.command = std::move(words);
  return spec;
}

TEST(HealthProbe, CommandExitStatusDecides) {
  asio::io_context io;
  EXPECT_EQ(RunProbe(io, Command({"/bin/true"})).outcome, ProbeOutcome::kPassed);
  EXPECT_EQ(RunProbe(io, Command({"/bin/false"})).outcome, ProbeOutcome::kCommandFailed);
  EXPECT_EQ(RunProbe(io, Command({"/bin/sh", "-c", "exit 3"})).outcome,
            ProbeOutcome::kCommandFailed);
  EXPECT_EQ(RunProbe(io, Command({"/nonexistent/check"})).outcome, ProbeOutcome::kSpawnFailed);
  // Arguments reach the program as written, with no shell in between.
  EXPECT_EQ(RunProbe(io, Command({"/bin/sh", "-c", "test \"$0\" = 'a b;c'", "a b;c"})).outcome,
            ProbeOutcome::kPassed);
}

TEST(HealthProbe, CommandOverItsTimeoutIsKilled) {
  asio::io_context io;
  const auto start = std::chrono::steady_clock::now();
  const Result r = RunProbe(io, Command({"/bin/sleep", "30"}));
  EXPECT_EQ(r.outcome, ProbeOutcome::kTimeout);
  // The killed child is reaped at once: the loop runs out of work long before the 30 s.
  io.restart();
  io.run_for(std::chrono::seconds(3));
  EXPECT_TRUE(io.stopped()) << "the timed-out command is still awaited";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// This host (1) and host 2, which serves rule web at weight 50 announcing other_health.
std::vector<MemberReport> WithOtherServer(RuleHealth other_health) {
  MemberReport self, other;
  self.host_id = 1;
  self.state = other.state = HostState::kConverged;
  self.rule_params = {HostRuleParams{50, 1}};
  other.host_id = 2;
  other.rule_params = {HostRuleParams{50, 1}};
  other.rule_health = {other_health};
  return {self, other};
}

TEST(HealthMonitor, ListenerGoneDrainsOrFailsOpenAndComesBack) {
  asio::io_context io;
  auto server = std::make_unique<LocalServer>(io, std::nullopt);
  HealthCheckSpec spec = Spec(HealthCheckKind::kTcp, server->port());
  spec.interval_ms = 100;
  spec.timeout_ms = 100;
  spec.rise = 2;
  spec.fall = 2;
  PortRule rule;
  rule.name = "web";
  const std::vector<PortRule> rules{rule};
  size_t results = 0;
  HealthMonitor monitor(io, {spec}, [&](const std::string&) { ++results; });
  const std::vector<MemberReport> others = WithOtherServer(RuleHealth::kServe);
  ASSERT_TRUE(RunUntil(io, [&] { return results >= 2; }));
  EXPECT_TRUE(monitor.Evaluate(others, rules, 1).empty());
  EXPECT_EQ(monitor.VerdictOf("web"), RuleHealthVerdict::kServe);

  server->Close();
  ASSERT_TRUE(RunUntil(io, [&] {
    (void)monitor.Evaluate(others, rules, 1);
    return monitor.VerdictOf("web") == RuleHealthVerdict::kDrain;
  }));
  EXPECT_EQ(monitor.Announced(rules), std::vector<RuleHealth>{RuleHealth::kDrain});
  // Alone with a failing check (the other member announces its check failing too, at its full
  // weight): keep serving.
  const std::vector<MemberReport> alone = WithOtherServer(RuleHealth::kFailOpen);
  EXPECT_EQ(monitor.Evaluate(alone, rules, 1).size(), 1u);
  EXPECT_EQ(monitor.VerdictOf("web"), RuleHealthVerdict::kFailOpen);
  EXPECT_EQ(monitor.Announced(rules), std::vector<RuleHealth>{RuleHealth::kFailOpen});
  EXPECT_EQ(monitor.FailingOpen(), 1u);
  EXPECT_EQ(monitor.VerdictOf("other-rule"), RuleHealthVerdict::kServe);

  // The service comes back on the same port: rise passes later the rule is served again.
  tcp::acceptor back(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), spec.port));
  back.listen();
  ASSERT_TRUE(RunUntil(io, [&] {
    (void)monitor.Evaluate(others, rules, 1);
    return monitor.VerdictOf("web") == RuleHealthVerdict::kServe;
  }));
  JsonWriter w;
  monitor.WriteJson(w);
  EXPECT_NE(w.str().find("\"transitions\":2"), std::string::npos) << w.str();
  EXPECT_NE(w.str().find("\"refused\":"), std::string::npos) << w.str();
}

}  // namespace
}  // namespace nlb::agent
