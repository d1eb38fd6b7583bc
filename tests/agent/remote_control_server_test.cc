// The remote control channel end to end on loopback: a RemoteControlServer with a trivial
// handler (this tests the channel, not the agent's commands) and the client nlbctl uses.
// Every wait is bounded; nothing sleeps to wait for an event.
#include "agent/remote_control_server.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "common/control_psk.h"
#include "tools/control_exchange.h"

namespace nlb::agent {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const std::string kKey = "test cluster key, 32 bytes long\n";
const std::string kWrongKey = "another cluster key, not the one\n";

IpAddress Loopback() { return *IpAddress::Parse("127.0.0.1"); }

class RemoteControlServerTest : public ::testing::Test {
 protected:
  void Open(RemoteControlOptions options = {}) {
    auto server = RemoteControlServer::Open(
        io_, Loopback(), 0, kKey,
        [this](const std::vector<std::string>& words, const RequestOrigin& origin,
               RemoteControlServer::Reply reply) {
          last_origin_ = origin;
          reply("{\"ok\":true,\"host\":1,\"words\":" + std::to_string(words.size()) +
                ",\"first\":\"" + words[0] + "\"}");
        },
        options);
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] { server_.reset(); });
      work_.reset();
      io_.stop();
      thread_.join();
    }
  }

  // Counters are the io thread's; read them there.
  RemoteControlCounters Counters() {
    std::promise<RemoteControlCounters> p;
    asio::post(io_, [&] { p.set_value(server_->counters()); });
    return p.get_future().get();
  }

  // Waits (bounded) until pred holds for the server's counters.
  template <typename Pred>
  bool EventuallyCounters(Pred pred) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      if (pred(Counters())) return true;
      std::this_thread::yield();
    }
    return false;
  }

  ExchangeResult Ask(std::string_view request, const std::string& key = kKey,
                     milliseconds timeout = milliseconds(3000)) {
    return ExchangeControlRequest(
        ControlTarget::Remote(Loopback(), server_->port(), DeriveControlPsk(key)), request,
        timeout);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<RemoteControlServer> server_;
  std::thread thread_;
  RequestOrigin last_origin_;
};

TEST_F(RemoteControlServerTest, RightKeyGetsTheHandlersReplyAsRemote) {
  Open();
  const ExchangeResult r = Ask("enable 198.18.0.100:80");
  ASSERT_TRUE(r.replied()) << r.error;
  EXPECT_EQ(r.reply, R"({"ok":true,"host":1,"words":2,"first":"enable"})");
  EXPECT_TRUE(EventuallyCounters([](const auto& c) { return c.requests_served == 1; }));
  std::promise<RequestOrigin> origin;
  asio::post(io_, [&] { origin.set_value(last_origin_); });
  const RequestOrigin o = origin.get_future().get();
  EXPECT_TRUE(o.remote());
  EXPECT_EQ(o.peer, Loopback());
}

TEST_F(RemoteControlServerTest, WrongKeyIsRefusedAndCounted) {
  Open();
  const ExchangeResult r = Ask("query", kWrongKey);
  EXPECT_EQ(r.transport, ControlExit::kRefused) << r.error;
  EXPECT_NE(r.error.find("cluster key"), std::string::npos) << r.error;
  EXPECT_TRUE(EventuallyCounters([](const auto& c) { return c.handshakes_refused == 1; }));
  EXPECT_EQ(Counters().requests_served, 0u);
}

TEST_F(RemoteControlServerTest, RepeatedFailuresFromOneAddressAreSlowedDown) {
  RemoteControlOptions options;
  options.throttle.free_failures = 1;
  options.throttle.first_delay = std::chrono::seconds(30);
  Open(options);
  EXPECT_EQ(Ask("query", kWrongKey).transport, ControlExit::kRefused);
  EXPECT_EQ(Ask("query", kWrongKey).transport, ControlExit::kRefused);
  EXPECT_TRUE(EventuallyCounters([](const auto& c) { return c.handshakes_refused == 2; }));
  // Now even the right key waits: the address is dropped before any handshake.
  const ExchangeResult r = Ask("query");
  EXPECT_EQ(r.transport, ControlExit::kRefused) << r.error;
  EXPECT_TRUE(EventuallyCounters([](const auto& c) { return c.handshakes_throttled == 1; }));
  EXPECT_EQ(Counters().handshakes_refused, 2u);
}

// Raw bytes on a plain TCP socket, then reads until the server closes; returns how long that took.
milliseconds SendAndAwaitClose(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const auto start = Clock::now();
  if (!bytes.empty()) asio::write(socket, asio::buffer(bytes));
  std::string sink(4096, '\0');
  boost::system::error_code ec;
  while (!ec) socket.read_some(asio::buffer(sink), ec);
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

TEST_F(RemoteControlServerTest, GarbageInsteadOfTlsIsRefused) {
  Open();
  const milliseconds took = SendAndAwaitClose(server_->port(), "query\n");
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_TRUE(EventuallyCounters([](const auto& c) { return c.handshakes_refused == 1; }));
  EXPECT_EQ(Counters().requests_served, 0u);
}

TEST_F(RemoteControlServerTest, SilentClientIsDroppedAtTheDeadline) {
  RemoteControlOptions options;
  options.deadline = milliseconds(200);
  Open(options);
  const milliseconds took = SendAndAwaitClose(server_->port(), "");
  EXPECT_GE(took, milliseconds(150));
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_TRUE(EventuallyCounters([](const auto& c) { return c.deadlines_expired == 1; }));
}

TEST_F(RemoteControlServerTest, EmptyRequestIsAnsweredInvalid) {
  RemoteControlOptions options;
  options.host_id = 7;
  Open(options);
  const ExchangeResult r = Ask("");
  ASSERT_TRUE(r.replied()) << r.error;
  EXPECT_NE(r.reply.find(R"("ok":false,"host":7,"code":"invalid")"), std::string::npos) << r.reply;
  EXPECT_TRUE(EventuallyCounters([](const auto& c) { return c.malformed_requests == 1; }));
}

TEST_F(RemoteControlServerTest, BindingATakenPortFails) {
  Open();
  asio::io_context other;
  auto second = RemoteControlServer::Open(other, Loopback(), server_->port(), kKey,
                                          [](const std::vector<std::string>&, const RequestOrigin&,
                                             RemoteControlServer::Reply reply) { reply("{}"); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1"), std::string::npos);
}

// The client's failures without any server of ours.
TEST(ControlExchangeTest, ClosedPortFailsFastAsUnreachable) {
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = probe.local_endpoint().port();
  probe.close();
  const auto start = Clock::now();
  const ExchangeResult r = ExchangeControlRequest(
      ControlTarget::Remote(Loopback(), port, DeriveControlPsk(kKey)), "query", milliseconds(3000));
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_EQ(r.transport, ControlExit::kUnreachable);
  EXPECT_NE(r.error.find("127.0.0.1:" + std::to_string(port) + " unreachable"), std::string::npos)
      << r.error;
}

TEST(ControlExchangeTest, ServerThatNeverAnswersTimesOutWithinTheDeadline) {
  asio::io_context io;
  // Listening without ever accepting: the kernel completes the TCP handshake, nobody talks.
  tcp::acceptor mute(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto start = Clock::now();
  const ExchangeResult r = ExchangeControlRequest(
      ControlTarget::Remote(Loopback(), mute.local_endpoint().port(), DeriveControlPsk(kKey)),
      "query", milliseconds(300));
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.transport, ControlExit::kTimedOut) << r.error;
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(1500));
}

TEST(ControlExchangeTest, MissingLocalSocketIsUnreachable) {
  const ExchangeResult r = ExchangeControlRequest(
      ControlTarget::Local("/nonexistent/nlb/test.sock"), "query", milliseconds(1000));
  EXPECT_EQ(r.transport, ControlExit::kUnreachable);
  EXPECT_NE(r.error.find("/nonexistent/nlb/test.sock"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace nlb::agent
