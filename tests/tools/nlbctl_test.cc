// nlbctl end to end on this machine: RunNlbctl against a real ControlServer (Unix socket in a
// temporary directory) and real RemoteControlServers on 127.0.0.x, each with a canned handler.
// Checks what is printed and the exit status for one host, --json, refusals and --cluster.
#include "tools/nlbctl.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/control_server.h"
#include "agent/remote_control_server.h"

namespace nlb {
namespace {

namespace asio = boost::asio;

// Members 1 (answers the query, locally) and 2 (remote on 127.0.0.2); 3 is kept out and has no
// agent listening on 127.0.0.3.
const char kQuery[] = R"({"ok":true,"host":1,"cluster":"t","state":"converged","members":[)"
                      R"({"id":1,"address":"127.0.0.1","state":"converged"},)"
                      R"({"id":2,"address":"127.0.0.2","state":"converged"}],)"
                      R"("kept_out":[{"id":3,"address":"127.0.0.3","reason":"mismatched rules"}]})";

// "reload" requests received by either agent (reload --cluster must send none when a check fails).
std::atomic<int> g_reloads{0};

std::string Reply(int host, const std::vector<std::string>& words) {
  if (words[0] == "query") return kQuery;
  if (words[0] == "reload") ++g_reloads;
  if (words[0] == "owner") {
    // The request as the agent got it, and an owner by the client's port: odd 2, even 1.
    const char owner = (words[1].back() - '0') % 2 == 1 ? '2' : '1';
    std::string request;
    for (const std::string& w : words) request += (request.empty() ? "" : " ") + w;
    return "{\"ok\":true,\"host\":" + std::to_string(host) + ",\"request\":\"" + request +
           R"(","owners":[{"rule":"web","vip":"198.18.0.100","port":80,"protocol":"tcp",)" +
           R"("bucket":7,"owner":)" + owner + R"(,"reason":"owned_bucket"}]})";
  }
  if (words[0] == "reload-check") {
    return "{\"ok\":true,\"host\":" + std::to_string(host) +
           R"(,"digest":"5eed0000000000aa","running_digest":"01d0000000000000"})";
  }
  if (words[0] == "stop" && host == 2) {
    return R"({"ok":false,"host":2,"code":"already","error":"host 2 is already stopped"})";
  }
  return "{\"ok\":true,\"host\":" + std::to_string(host) + "}";
}

class NlbctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nlbctl-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    key_path_ = (dir_ / "cluster.key").string();
    WriteKey(key_path_, "the test cluster's key, 32 bytes\n");
    socket_path_ = (dir_ / "ctl.sock").string();

    auto local =
        agent::ControlServer::Open(io_, socket_path_,
                                   [](const std::vector<std::string>& words,
                                      agent::ControlServer::Reply r) { r(Reply(1, words)); });
    ASSERT_TRUE(local.ok()) << local.status().message();
    local_ = std::move(local).value();
    auto remote = agent::RemoteControlServer::Open(
        io_, *IpAddress::Parse("127.0.0.2"), 0, "the test cluster's key, 32 bytes\n",
        [](const std::vector<std::string>& words, const RequestOrigin&,
           agent::RemoteControlServer::Reply r) { r(Reply(2, words)); });
    ASSERT_TRUE(remote.ok()) << remote.status().message();
    remote_ = std::move(remote).value();
    port_ = std::to_string(remote_->port());
    config_path_ = (dir_ / "nlb.yaml").string();
    std::ofstream(config_path_) << "cluster:\n  name: t\n  vips: [198.18.0.200]\n"
                                << "  heartbeat:\n    key_file: cluster.key\n"
                                << "  control:\n    port: " << port_ << "\n"
                                << "host:\n  id: 1\n  interface: lo\n"
                                << "  dedicated_address: 198.18.1.21\n";
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] {
        local_.reset();
        remote_.reset();
      });
      work_.reset();
      thread_.join();
    }
    std::filesystem::remove_all(dir_);
  }

  static void WriteKey(const std::string& path, const std::string& key) {
    std::ofstream(path) << key;
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  int Run(std::vector<std::string_view> args) {
    std::ostringstream out;
    std::ostringstream err;
    const int status = RunNlbctl(args, out, err);
    out_ = out.str();
    err_ = err.str();
    return status;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<agent::ControlServer> local_;
  std::unique_ptr<agent::RemoteControlServer> remote_;
  std::thread thread_;
  std::filesystem::path dir_;
  std::string key_path_, socket_path_, config_path_, port_;
  std::string out_, err_;
};

TEST_F(NlbctlTest, LocalQueryAsTableAndJson) {
  EXPECT_EQ(Run({"--socket", socket_path_, "query"}), 0) << err_;
  EXPECT_EQ(out_.find("host 1: query ok\n"), 0u) << out_;
  EXPECT_NE(out_.find("  3   127.0.0.3  mismatched rules\n"), std::string::npos) << out_;
  EXPECT_EQ(Run({"--socket", socket_path_, "--json", "query"}), 0) << err_;
  EXPECT_EQ(out_, std::string(kQuery) + "\n");
}

// owner --flows: one request per line over one nlbctl run; a bad line is named and skipped.
TEST_F(NlbctlTest, OwnerOfManyFlowsFromAFile) {
  const std::string flows = (dir_ / "flows").string();
  std::ofstream(flows) << "# client port, vip\n"
                       << "198.18.2.1:1001 198.18.0.100:80\n"
                       << "\n"
                       << "198.18.2.1:1002 198.18.0.100:80 tcp\n"
                       << "not-an-address\n"
                       << "198.18.2.1:1003\n";
  EXPECT_EQ(
      Run({"--socket", socket_path_, "--json", "owner", "--flows", flows, "--protocol", "udp"}), 2);
  EXPECT_NE(err_.find("flows line 5: "), std::string::npos) << err_;
  std::istringstream lines(out_);
  std::vector<std::string> replies;
  for (std::string line; std::getline(lines, line);) replies.push_back(line);
  ASSERT_EQ(replies.size(), 3u) << out_;
  EXPECT_NE(replies[0].find(R"("request":"owner 198.18.2.1:1001 198.18.0.100:80 udp")"),
            std::string::npos)
      << replies[0];
  EXPECT_NE(replies[1].find(R"("request":"owner 198.18.2.1:1002 198.18.0.100:80 tcp")"),
            std::string::npos)
      << replies[1];
  EXPECT_NE(replies[2].find(R"("request":"owner 198.18.2.1:1003 udp")"), std::string::npos)
      << replies[2];

  std::ofstream(flows) << "198.18.2.1:1001 198.18.0.100:80\n198.18.2.1:1002 198.18.0.100:80\n";
  EXPECT_EQ(Run({"--socket", socket_path_, "owner", "--flows", flows}), 0) << err_;
  EXPECT_EQ(out_,
            "FLOW             VIP:PORT             RULE  BUCKET  OWNER  REASON\n"
            "198.18.2.1:1001  198.18.0.100:80/tcp  web   7       2      owned_bucket\n"
            "198.18.2.1:1002  198.18.0.100:80/tcp  web   7       1      owned_bucket\n");
  EXPECT_EQ(Run({"--socket", socket_path_, "owner", "--flows", (dir_ / "none").string()}), 2);
  EXPECT_NE(err_.find("cannot read flows from"), std::string::npos) << err_;
}

TEST_F(NlbctlTest, RemoteHostWithTheKeyAndWithout) {
  const std::string host = "127.0.0.2:" + port_;
  EXPECT_EQ(Run({"--host", host, "--key", key_path_, "start"}), 0) << err_;
  EXPECT_EQ(out_, "host 2: start ok\n");
  // The refusal's code becomes the exit status; its sentence goes to stderr.
  EXPECT_EQ(Run({"--host", host, "--key", key_path_, "stop"}), 4);
  EXPECT_EQ(err_, "nlbctl: host 2: stop already: host 2 is already stopped\n");
  // The port and the key come from the configuration file when not given.
  EXPECT_EQ(Run({"--config", config_path_, "--host", "127.0.0.2", "start"}), 0) << err_;

  const std::string wrong = (dir_ / "wrong.key").string();
  WriteKey(wrong, "some other cluster's key, 32 byte\n");
  EXPECT_EQ(Run({"--host", host, "--key", wrong, "start"}), 5);
  EXPECT_NE(err_.find("refused the TLS handshake"), std::string::npos) << err_;
}

TEST_F(NlbctlTest, UnreachableHostIsNamedWithExit6) {
  EXPECT_EQ(Run({"--host", "127.0.0.3:" + port_, "--key", key_path_, "query"}), 6);
  EXPECT_NE(err_.find("127.0.0.3:" + port_ + " unreachable"), std::string::npos) << err_;
  EXPECT_EQ(Run({"--socket", (dir_ / "none.sock").string(), "query"}), 6);
  EXPECT_NE(err_.find("none.sock unreachable"), std::string::npos) << err_;
}

TEST_F(NlbctlTest, MissingConfigurationSaysWhatItWasFor) {
  EXPECT_EQ(Run({"--config", (dir_ / "absent.yaml").string(), "query"}), 2);
  EXPECT_NE(err_.find("to find the local agent's socket"), std::string::npos) << err_;
}

TEST_F(NlbctlTest, ClusterReportsEveryHost) {
  EXPECT_EQ(Run({"--config", config_path_, "--socket", socket_path_, "--cluster", "--timeout-ms",
                 "2000", "start"}),
            6)
      << err_;
  EXPECT_EQ(out_.substr(0, out_.find('\n')), "HOST  ADDRESS    RESULT") << out_;
  EXPECT_NE(out_.find("1     127.0.0.1  ok\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("2     127.0.0.2  ok\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("3     127.0.0.3  unreachable: host 127.0.0.3:" + port_), std::string::npos)
      << out_;
  EXPECT_NE(out_.find("(kept out: mismatched rules)"), std::string::npos) << out_;

  EXPECT_EQ(
      Run({"--config", config_path_, "--socket", socket_path_, "--cluster", "--json", "stop"}), 4);
  EXPECT_EQ(out_.find(R"([{"ok":true,"host":1},{"ok":false,"host":2,"code":"already")"), 0u)
      << out_;
  EXPECT_NE(out_.find(R"({"ok":false,"host":"3","address":"127.0.0.3","code":"unreachable")"),
            std::string::npos)
      << out_;
}

TEST_F(NlbctlTest, ClusterQueryIsOneMergedTableAndWatchRepeatsIt) {
  EXPECT_EQ(Run({"--config", config_path_, "--socket", socket_path_, "--cluster", "--timeout-ms",
                 "2000", "--interval-ms", "100", "query"}),
            6)
      << err_;
  EXPECT_EQ(out_.substr(0, out_.find('\n')).substr(0, 19), "HOST  ADDRESS    ST") << out_;
  EXPECT_NE(out_.find("1     127.0.0.1  converged"), std::string::npos) << out_;
  EXPECT_NE(out_.find("2     127.0.0.2  converged"), std::string::npos) << out_;
  EXPECT_NE(out_.find("3     127.0.0.3  unreachable: host 127.0.0.3:" + port_), std::string::npos)
      << out_;
  EXPECT_EQ(out_.find("RESULT"), std::string::npos) << out_;

  EXPECT_EQ(Run({"--config", config_path_, "--socket", socket_path_, "--cluster", "--json",
                 "--timeout-ms", "2000", "--interval-ms", "100", "report"}),
            6);
  EXPECT_EQ(out_.find(R"([{"id":"1","address":"127.0.0.1","query":{"ok":true,"host":1,)"), 0u)
      << out_;

  // watch: two refreshes (the test's limit), plain text into a non-terminal, exit 0.
  WatchHooks hooks;
  hooks.max_refreshes = 2;
  bool started = false;
  hooks.on_watch_start = [&] { started = true; };
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string_view> args = {"--socket", socket_path_, "--interval-ms", "100",
                                              "watch"};
  EXPECT_EQ(RunNlbctl(args, out, err, hooks), 0) << err.str();
  EXPECT_TRUE(started);
  EXPECT_EQ(out.str(), std::string(out.str().substr(0, out.str().size() / 2)) + "\n" +
                           out.str().substr(0, out.str().size() / 2))
      << out.str();
  EXPECT_EQ(out.str().find("host 1: query ok\n"), 0u) << out.str();
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos);

  // Interrupted before the first pause ends: one view, exit 0.
  std::atomic<bool> interrupted{true};
  WatchHooks stop;
  stop.interrupted = &interrupted;
  std::ostringstream once;
  EXPECT_EQ(RunNlbctl(args, once, err, stop), 0);
  EXPECT_EQ(once.str().find("host 1: query ok\n"), 0u) << once.str();
  EXPECT_EQ(once.str().find("host 1: query ok\n", 1), std::string::npos) << once.str();
}

TEST_F(NlbctlTest, ClusterReloadChecksEveryHostFirstAndChangesNothingWhenOneCannot) {
  g_reloads = 0;
  // Host 3 (kept out) has no agent: the check fails there, so no host is asked to reload.
  EXPECT_EQ(Run({"--config", config_path_, "--socket", socket_path_, "--cluster", "--timeout-ms",
                 "2000", "reload"}),
            6)
      << err_;
  EXPECT_EQ(g_reloads.load(), 0);
  EXPECT_EQ(out_.substr(0, out_.find('\n')), "HOST  ADDRESS    CHECK") << out_;
  EXPECT_NE(out_.find("1     127.0.0.1  ok: new digest 5eed00000000 (running 01d000000000)"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find("3     127.0.0.3  unreachable: "), std::string::npos) << out_;
  EXPECT_EQ(err_,
            "nlbctl: reload --cluster aborted, no host was changed: host 3 would not reload\n");

  EXPECT_EQ(Run({"--config", config_path_, "--socket", socket_path_, "--cluster", "--json",
                 "--timeout-ms", "2000", "reload"}),
            6);
  EXPECT_EQ(g_reloads.load(), 0);
  EXPECT_EQ(out_.find(R"({"ok":false,"error":"reload --cluster aborted)"), 0u) << out_;
  EXPECT_NE(out_.find(R"("checks":[{"ok":true,"host":1,"digest":"5eed)"), std::string::npos)
      << out_;
  EXPECT_EQ(out_.find("\"reloads\""), std::string::npos) << out_;
}

}  // namespace
}  // namespace nlb
