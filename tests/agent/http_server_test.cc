// The read-only HTTP listener end to end on 127.0.0.1 with an ephemeral port: a real HttpServer
// on its own io_context thread, a FixedStatusSource instead of an agent, and plain sockets as
// clients (so malformed and slow requests can be sent). Every read is bounded by SO_RCVTIMEO.
#include "agent/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "tests/support/host_status_fixture.h"

namespace nlb::agent {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class HttpServerTest : public ::testing::Test {
 protected:
  void Open(HttpServerOptions options = {}) {
    options.listen = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    auto server = HttpServer::Open(io_, options, source_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs fn on the server's thread (its counters are that thread's) and waits for it.
  template <typename F>
  auto OnLoop(F fn) {
    std::packaged_task<decltype(fn())()> task(fn);
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }
  HttpServerCounters Counters() {
    return OnLoop([this] { return server_->counters(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      OnLoop([this] { server_.reset(); });
      work_.reset();
      io_.stop();
      thread_.join();
    }
  }

  tcp::socket Connect() {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    timeval tv{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
  }
  // Sends raw bytes and reads until the server closes (or 5 s pass without a byte).
  static std::string ReadAll(tcp::socket& s) {
    std::string out;
    char buffer[4096];
    for (;;) {
      boost::system::error_code ec;
      const size_t n = s.read_some(asio::buffer(buffer), ec);
      out.append(buffer, n);
      if (ec) return out;
    }
  }
  std::string Exchange(const std::string& request) {
    tcp::socket s = Connect();
    asio::write(s, asio::buffer(request));
    return ReadAll(s);
  }
  // Reads one response of a kept-alive connection: headers, then Content-Length bytes.
  static std::string ReadResponse(tcp::socket& s) {
    std::string out;
    char c;
    while (out.find("\r\n\r\n") == std::string::npos) {
      if (asio::read(s, asio::buffer(&c, 1)) != 1) return out;
      out += c;
    }
    const size_t at = out.find("Content-Length: ");
    if (at == std::string::npos) return out;
    const size_t length = std::stoul(out.substr(at + 16));
    std::string body(length, '\0');
    asio::read(s, asio::buffer(body));
    return out + body;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::io_context client_io_;
  testing::FixedStatusSource source_{testing::SampleHostStatus()};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, ServesMetricsStatusAndPage) {
  Open();
  const std::string metrics =
      Exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(metrics.starts_with("HTTP/1.1 200 OK\r\n")) << metrics.substr(0, 200);
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.find("\nnlb_members 2\n"), std::string::npos);
  const std::string json = Exchange("GET /status.json HTTP/1.0\r\n\r\n");
  EXPECT_NE(json.find("application/json"), std::string::npos);
  EXPECT_NE(json.find("\"owner_runs\":[[1,8192],[2,8192]]"), std::string::npos);
  const std::string page = Exchange("GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(page.find("<title>nlb status</title>"), std::string::npos);
}

TEST_F(HttpServerTest, HeadAnnouncesTheBodyButSendsNone) {
  Open();
  const std::string get = Exchange("GET /metrics HTTP/1.0\r\n\r\n");
  const std::string head = Exchange("HEAD /metrics HTTP/1.0\r\n\r\n");
  const size_t end = head.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << head;
  EXPECT_EQ(end + 4, head.size()) << "HEAD sent a body";
  const size_t body = get.size() - (get.find("\r\n\r\n") + 4);
  EXPECT_NE(head.find("Content-Length: " + std::to_string(body)), std::string::npos) << head;
}

TEST_F(HttpServerTest, RefusesEveryOtherMethodAndUnknownPaths) {
  Open();
  struct Case {
    std::string request;
    std::string status_line;
  };
  const Case cases[] = {
      {"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
       "HTTP/1.1 405 Method Not Allowed"},
      {"PUT /status.json HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"DELETE / HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"PATCH / HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"OPTIONS * HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"BREW /pot HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"GET /admin HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
  };
  for (const Case& c : cases) {
    const std::string reply =
        Exchange(c.request.substr(0, c.request.find("\r\n")) + "\r\nConnection: close" +
                 c.request.substr(c.request.find("\r\n")));
    EXPECT_TRUE(reply.starts_with(c.status_line + "\r\n")) << c.request << " -> " << reply;
    if (c.status_line.find("405") != std::string::npos) {
      EXPECT_NE(reply.find("Allow: GET, HEAD\r\n"), std::string::npos) << reply;
    }
  }
  const HttpServerCounters counters = Counters();
  EXPECT_EQ(counters.methods_refused, 6u);
  EXPECT_EQ(counters.not_found, 1u);
  EXPECT_EQ(source_.calls(), 0) << "a refused request read the agent";
}

TEST_F(HttpServerTest, KeepsAConnectionAliveAcrossRequests) {
  Open();
  tcp::socket s = Connect();
  for (int i = 0; i < 3; ++i) {
    asio::write(s, asio::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
    const std::string reply = ReadResponse(s);
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK")) << i;
    EXPECT_NE(reply.find("nlb_members 2\n"), std::string::npos) << i;
  }
  EXPECT_EQ(Counters().requests, 3u);
}

TEST_F(HttpServerTest, OversizedOrGarbledRequestsAreAnsweredAndClosed) {
  HttpServerOptions options;
  options.max_request_bytes = 1024;
  Open(options);
  const std::string big =
      Exchange("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(big.starts_with("HTTP/1.1 431")) << big.substr(0, 80);
  const std::string body =
      Exchange("POST /metrics HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b'));
  EXPECT_TRUE(body.starts_with("HTTP/1.1 413")) << body.substr(0, 80);
  const std::string garbled = Exchange("\x01\x02 not http at all\r\n\r\n");
  EXPECT_TRUE(garbled.starts_with("HTTP/1.1 400")) << garbled.substr(0, 80);
  EXPECT_EQ(Counters().bad_requests, 3u);
}

TEST_F(HttpServerTest, ASlowRequestIsCutAtTheDeadline) {
  HttpServerOptions options;
  options.deadline = std::chrono::milliseconds(300);
  Open(options);
  tcp::socket idle = Connect();
  tcp::socket slow = Connect();
  asio::write(slow, asio::buffer(std::string("GET /metr")));
  const auto start = Clock::now();
  EXPECT_EQ(ReadAll(slow), "");  // closed without an answer
  EXPECT_EQ(ReadAll(idle), "");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
  // The idle connection is the keep-alive case: closed, not counted as an error.
  EXPECT_EQ(Counters().deadlines_expired, 1u);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAreClosedOnAccept) {
  HttpServerOptions options;
  options.max_connections = 2;
  Open(options);
  tcp::socket a = Connect();
  tcp::socket b = Connect();
  // Both accepted and alive: each gets an answer and stays open.
  for (tcp::socket* s : {&a, &b}) {
    asio::write(*s, asio::buffer(std::string("GET /metrics HTTP/1.1\r\n\r\n")));
    EXPECT_TRUE(ReadResponse(*s).starts_with("HTTP/1.1 200"));
  }
  tcp::socket c = Connect();
  asio::write(c, asio::buffer(std::string("GET /metrics HTTP/1.1\r\n\r\n")));
  EXPECT_EQ(ReadAll(c), "");
  EXPECT_EQ(Counters().connections_refused, 1u);
  EXPECT_EQ(OnLoop([this] { return server_->open_connections(); }), 2u);
  a.close();
  // Once one closes, a new client gets in (wait for the server to notice, with a deadline).
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (OnLoop([this] { return server_->open_connections(); }) != 1 && Clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(Exchange("GET / HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200"));
}

TEST_F(HttpServerTest, ClosingTheServerClosesItsConnections) {
  Open();
  tcp::socket s = Connect();
  asio::write(s, asio::buffer(std::string("GET /metrics HTTP/1.1\r\n\r\n")));
  ASSERT_TRUE(ReadResponse(s).starts_with("HTTP/1.1 200"));
  OnLoop([this] { server_.reset(); });
  EXPECT_EQ(ReadAll(s), "");
}

TEST(HttpServerOpenTest, AnAddressInUseIsAnErrorNamingIt) {
  asio::io_context io;
  testing::FixedStatusSource source(testing::SampleHostStatus());
  HttpServerOptions options;
  options.listen = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  auto first = HttpServer::Open(io, options, source);
  ASSERT_TRUE(first.ok());
  options.listen.port(first.value()->port());
  auto second = HttpServer::Open(io, options, source);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(options.listen.port())),
            std::string::npos)
      << second.status().message();
}

}  // namespace
}  // namespace nlb::agent
