#include "common/control_command.h"

#include <array>

#include "common/control_rule.h"
#include "common/flow_owner.h"

namespace nlb {
namespace {

using Arg = ControlCommand::Argument;

constexpr std::array kCommands = {
    ControlCommand{"query", Arg::kNone, true, false, "show the cluster as this host sees it",
                   "Members with their id, address and state; hosts kept out of the cluster and "
                   "why; the converged state, generation and last convergence."},
    ControlCommand{"params", Arg::kNone, true, false,
                   "show the effective configuration and recent events",
                   "The configuration the agent runs with (after defaults) and its recent events."},
    ControlCommand{"display", Arg::kNone, true, false, "the same as params (wlbs display)",
                   "The configuration the agent runs with (after defaults) and its recent events."},
    ControlCommand{"report", Arg::kNone, true, false, "show counters",
                   "Buckets owned per port rule, packets and bytes per decision reason, and every "
                   "error counter (including refused remote control handshakes)."},
    ControlCommand{"start", Arg::kNone, true, true, "start handling cluster traffic",
                   "The host joins the convergence and takes its share of the buckets."},
    ControlCommand{"stop", Arg::kNone, true, true, "stop handling cluster traffic now",
                   "The host leaves at once; its connections break. See drainstop."},
    ControlCommand{"drainstop", Arg::kNone, true, true,
                   "take no new connections, finish existing ones, then stop",
                   "New connections go to other hosts; the host stops when its last one ends."},
    ControlCommand{"suspend", Arg::kNone, true, true, "ignore remote commands until resumed",
                   "A suspended host stops handling traffic and ignores every remote command but "
                   "resume."},
    ControlCommand{"resume", Arg::kNone, true, true, "accept commands again after suspend",
                   "Undoes suspend; the host is then stopped (send start to handle traffic)."},
    ControlCommand{
        "enable", Arg::kRule, true, true, "handle traffic of a port rule again",
        "RULE is all, PORT (e.g. 80), VIP:PORT (198.18.0.100:80, [2001:2::1]:443) or a rule's "
        "NAME from the YAML (e.g. http)."},
    ControlCommand{
        "disable", Arg::kRule, true, true, "stop handling traffic of a port rule now",
        "RULE is all, PORT (e.g. 80), VIP:PORT (198.18.0.100:80, [2001:2::1]:443) or a rule's "
        "NAME from the YAML (e.g. http)."},
    ControlCommand{
        "drain", Arg::kRule, true, true,
        "take no new connections of a port rule, finish existing ones",
        "RULE is all, PORT (e.g. 80), VIP:PORT (198.18.0.100:80, [2001:2::1]:443) or a rule's "
        "NAME from the YAML (e.g. http)."},
    ControlCommand{"owner", Arg::kFlow, true, false,
                   "show the rule, bucket and host that take a client's flow",
                   "CLIENT[:PORT] [VIP:PORT] [--protocol tcp|udp]: the agent decides the flow's "
                   "first packet as its data path does, over the map it holds. Without VIP:PORT, "
                   "one line per rule (at its first port)."},
    ControlCommand{"reload", Arg::kNone, true, true, "re-read the configuration file",
                   "On any error the running configuration stays and the reply says why."},
    ControlCommand{"reload-check", Arg::kNone, true, false,
                   "check the configuration file as reload would, without applying it",
                   "Replies with the new file's cluster digest, or why reload would refuse it; "
                   "nlbctl reload --cluster runs it on every host before any host switches."},
    ControlCommand{"log-level", Arg::kLevel, true, false,
                   "set the agent's log level until it restarts",
                   "LEVEL is error, warning, notice, info or debug (most to least severe); lines "
                   "below it are not written. nlbd --log-level sets it at start (default info)."},
    ControlCommand{"ip2mac", Arg::kVip, false, false,
                   "print the cluster MAC of a VIP in every mode (no agent needed)",
                   "Computed locally: multicast 03:bf:a:b:c:d, unicast 02:bf:a:b:c:d, "
                   "igmp 01:00:5e:7f:c:d with the group 239.255.c.d."},
    ControlCommand{"keygen", Arg::kFile, false, false,
                   "create a new random cluster key file (mode 0600)",
                   "Writes 32 random bytes, base64, to FILE with mode 0600; refuses to overwrite "
                   "an existing file unless --force. Copy the file to every host (heartbeat."
                   "key_file): it authenticates heartbeats and remote nlbctl."},
};

}  // namespace

bool IsControlLogLevel(std::string_view word) {
  for (std::string_view level : kControlLogLevels) {
    if (word == level) return true;
  }
  return false;
}

std::span<const ControlCommand> ControlCommands() { return kCommands; }

const ControlCommand* FindControlCommand(std::string_view name) {
  for (const ControlCommand& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string_view ArgumentPlaceholder(ControlCommand::Argument argument) {
  switch (argument) {
    case Arg::kNone:
      return "";
    case Arg::kRule:
      return "RULE";
    case Arg::kVip:
      return "VIP";
    case Arg::kFile:
      return "FILE";
    case Arg::kFlow:
      return "CLIENT[:PORT] [VIP:PORT]";
    case Arg::kLevel:
      return "LEVEL";
  }
  return "";
}

Status ValidateControlRequest(std::span<const std::string> words) {
  if (words.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument, "no command given: try 'query'");
  }
  const ControlCommand* command = FindControlCommand(words[0]);
  if (command == nullptr || !command->sent_to_agent) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "unknown command '" + words[0] + "' (see nlbctl --help)");
  }
  if (command->argument == Arg::kFlow) {
    const Result<OwnerQuery> query = ParseOwnerQuery(words.subspan(1));
    return query.ok() ? Status::Ok() : query.status();
  }
  const size_t wanted = command->argument == Arg::kNone ? 1 : 2;
  if (words.size() != wanted) {
    const std::string usage(command->argument == Arg::kNone
                                ? std::string(command->name) + " takes no argument"
                                : std::string(command->name) + " takes one argument, " +
                                      std::string(ArgumentPlaceholder(command->argument)));
    return Status::Error(ErrorCode::kInvalidArgument, usage);
  }
  if (command->argument == Arg::kRule) {
    const Result<RuleSelector> rule = ParseRuleSelector(words[1]);
    if (!rule.ok()) return rule.status();
  }
  if (command->argument == Arg::kLevel && !IsControlLogLevel(words[1])) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "'" + words[1] +
                             "' is not a log level; use error, warning, notice, info "
                             "or debug");
  }
  return Status::Ok();
}

}  // namespace nlb
