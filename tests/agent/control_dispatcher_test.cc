// ControlDispatcher: each request reaches the one target method it names, a suspended host
// refuses remote commands but reads and resume, malformed requests never reach the target, and a
// command with wait=MS that succeeds is answered through AwaitInForce.
#include "agent/control_dispatcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace nlb::agent {
namespace {

class RecordingTarget final : public ControlTarget {
 public:
  uint16_t host_id() const override { return 3; }
  bool suspended() const override { return suspended_; }
  void NoteRefusedRemote(const std::string& command, const RequestOrigin&) override {
    calls.push_back("refused " + command);
  }
  std::string Query() const override { return Record("query"); }
  std::string Params() const override { return Record("params"); }
  std::string Report() const override { return Record("report"); }
  std::string Owner(const OwnerQuery& q) const override {
    return Record("owner " + OwnerRequestWords(q)[1] +
                  (q.vip ? " " + OwnerRequestWords(q)[2] : "") +
                  (q.ip_protocol ? " proto " + std::to_string(*q.ip_protocol) : ""));
  }
  std::string Command(HostCommand c) override {
    return Record("command " + std::to_string(static_cast<int>(c)));
  }
  std::string SetRuleControl(const RuleSelector& s, RuleControl c) override {
    return Record(std::string("rule ") + RuleControlName(c) + " " + s.ToString());
  }
  std::string ReloadCheck() override { return Record("reload-check"); }
  std::string ReloadNow(const RequestOrigin&) override { return Record("reload"); }
  void AwaitInForce(std::string what, std::string done_reply, std::chrono::milliseconds wait,
                    std::function<void(std::string)> reply) override {
    calls.push_back("await " + what + " " + std::to_string(wait.count()));
    reply(done_reply);
  }

  bool suspended_ = false;
  mutable std::vector<std::string> calls;

 private:
  // Commands succeed (so that a wait=MS goes on to AwaitInForce); reads answer their name.
  std::string Record(std::string call) const {
    calls.push_back(call);
    if (call.starts_with("command") || call.starts_with("rule")) {
      return "{\"ok\":true,\"result\":\"" + call + "\"}";
    }
    return call;
  }
};

struct Case {
  const char* name;
  std::vector<std::string> words;
  bool remote = false;
  bool suspended = false;
  std::string call;            // the target call it makes ("" = none)
  std::string reply_contains;  // for refusals ("" = not checked)
};

TEST(ControlDispatcherTest, Table) {
  const Case cases[] = {
      {"query", {"query"}, false, false, "query", ""},
      {"display is params", {"display"}, false, false, "params", ""},
      {"report", {"report"}, false, false, "report", ""},
      {"start", {"start"}, false, false, "command 0", ""},
      {"stop", {"stop"}, false, false, "command 1", ""},
      {"drainstop", {"drainstop"}, false, false, "command 2", ""},
      {"suspend", {"suspend"}, false, false, "command 3", ""},
      {"resume", {"resume"}, false, false, "command 4", ""},
      {"drain a port", {"drain", "80"}, false, false, "rule draining 80", ""},
      {"disable a VIP port",
       {"disable", "198.18.0.100:80"},
       false,
       false,
       "rule disabled 198.18.0.100:80",
       ""},
      {"enable all", {"enable", "all"}, false, false, "rule enabled all", ""},
      {"drain by name", {"drain", "http"}, false, false, "rule draining http", ""},
      {"reload-check", {"reload-check"}, false, false, "reload-check", ""},
      {"reload", {"reload"}, true, false, "reload", ""},
      {"owner of a client", {"owner", "198.18.2.1"}, false, false, "owner 198.18.2.1", ""},
      {"owner of a flow over udp",
       {"owner", "198.18.2.1:5000", "198.18.0.100:53", "udp"},
       false,
       false,
       "owner 198.18.2.1:5000 198.18.0.100:53 proto 17",
       ""},
      {"owner of a flow over IPv6",
       {"owner", "[2001:2::5]:5000", "[2001:2::100]:80"},
       false,
       false,
       "owner [2001:2::5]:5000 [2001:2::100]:80",
       ""},
      {"owner malformed client", {"owner", "198.18.2"}, false, false, "", "is not CLIENT"},
      {"owner without a client", {"owner"}, false, false, "", "\"code\":\"invalid\""},
      {"owner mixed families",
       {"owner", "198.18.2.1", "[2001:2::100]:80"},
       false,
       false,
       "",
       "different address families"},
      {"suspended: remote owner answered",
       {"owner", "198.18.2.1"},
       true,
       true,
       "owner 198.18.2.1",
       ""},
      {"unknown command", {"frobnicate"}, false, false, "", "\"ok\":false"},
      {"rule selector malformed",
       {"drain", "198.18.0.100:99999"},
       false,
       false,
       "",
       "\"code\":\"invalid\""},
      {"missing argument", {"drain"}, false, false, "", "\"code\":\"invalid\""},
      {"suspended: remote stop refused",
       {"stop"},
       true,
       true,
       "refused stop",
       "\"code\":\"refused\""},
      {"suspended: remote query answered", {"query"}, true, true, "query", ""},
      {"suspended: remote resume answered", {"resume"}, true, true, "command 4", ""},
      {"suspended: local stop answered", {"stop"}, false, true, "command 1", ""},
      {"drain waits until in force",
       {"drain", "web", "wait=5000"},
       false,
       false,
       "rule draining web; await drain web 5000",
       "rule draining web"},
      {"drainstop waits",
       {"drainstop", "wait=20"},
       false,
       false,
       "command 2; await drainstop 20",
       ""},
      {"without wait=MS nothing waits", {"disable", "web"}, false, false, "rule disabled web", ""},
      {"a read cannot wait", {"query", "wait=100"}, false, false, "", "'query' does not wait"},
      {"a malformed wait", {"stop", "wait=soon"}, false, false, "", "is not a wait"},
      {"a refused command does not wait",
       {"stop", "wait=100"},
       true,
       true,
       "refused stop",
       "\"code\":\"refused\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RecordingTarget target;
    target.suspended_ = c.suspended;
    ControlDispatcher dispatcher(target);
    RequestOrigin origin;
    if (c.remote) {
      origin.channel = RequestOrigin::Channel::kRemote;
      origin.peer = *IpAddress::Parse("198.18.2.1");
    }
    std::string reply;
    int replies = 0;
    dispatcher.Handle(c.words, origin, [&](std::string r) {
      reply = std::move(r);
      ++replies;
    });
    EXPECT_EQ(replies, 1);
    std::string calls;
    for (const std::string& call : target.calls) calls += (calls.empty() ? "" : "; ") + call;
    EXPECT_EQ(calls, c.call);
    if (!c.reply_contains.empty()) {
      EXPECT_NE(reply.find(c.reply_contains), std::string::npos) << reply;
    }
  }
}

}  // namespace
}  // namespace nlb::agent
