// ControlDispatcher: each request reaches the one target method it names, a suspended host
// refuses remote commands but reads and resume, and malformed requests never reach the target.
#include "agent/control_dispatcher.h"

#include <gtest/gtest.h>

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
  std::string Command(HostCommand c) override {
    return Record("command " + std::to_string(static_cast<int>(c)));
  }
  std::string SetRuleControl(const RuleSelector& s, RuleControl c) override {
    return Record(std::string("rule ") + RuleControlName(c) + " " + s.ToString());
  }
  std::string ReloadCheck() override { return Record("reload-check"); }
  std::string ReloadNow(const RequestOrigin&) override { return Record("reload"); }

  bool suspended_ = false;
  mutable std::vector<std::string> calls;

 private:
  std::string Record(std::string call) const {
    calls.push_back(call);
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
      {"reload-check", {"reload-check"}, false, false, "reload-check", ""},
      {"reload", {"reload"}, true, false, "reload", ""},
      {"unknown command", {"frobnicate"}, false, false, "", "\"ok\":false"},
      {"rule selector malformed", {"drain", "80x"}, false, false, "", "\"code\":\"invalid\""},
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
    const std::string reply = dispatcher.Handle(c.words, origin);
    if (c.call.empty()) {
      EXPECT_TRUE(target.calls.empty());
    } else {
      ASSERT_EQ(target.calls.size(), 1u);
      EXPECT_EQ(target.calls[0], c.call);
    }
    if (!c.reply_contains.empty()) {
      EXPECT_NE(reply.find(c.reply_contains), std::string::npos) << reply;
    }
  }
}

}  // namespace
}  // namespace nlb::agent
