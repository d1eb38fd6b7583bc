#include "agent/control_dispatcher.h"

#include "agent/log.h"
#include "common/control_command.h"
#include "common/control_reply.h"
#include "common/control_wait.h"

namespace nlb::agent {

const char* RuleControlName(RuleControl control) {
  static const char* const kNames[] = {"enabled", "disabled", "draining"};
  return kNames[static_cast<int>(control)];
}

void ControlDispatcher::Handle(std::vector<std::string> words, const RequestOrigin& origin,
                               std::function<void(std::string)> reply) {
  const Result<std::optional<std::chrono::milliseconds>> wait = TakeControlWait(words);
  if (!wait.ok()) {
    return reply(ControlRefusal(target_.host_id(), "invalid", wait.status().message()));
  }
  std::string answer = Handle(words, origin);
  // Refusals ("already", "not_found", ...) change nothing: there is nothing to wait for.
  if (!wait.value() || !answer.starts_with("{\"ok\":true")) return reply(std::move(answer));
  std::string what;
  for (const std::string& w : words) what += (what.empty() ? "" : " ") + w;
  target_.AwaitInForce(std::move(what), std::move(answer), *wait.value(), std::move(reply));
}

std::string ControlDispatcher::Handle(const std::vector<std::string>& words,
                                      const RequestOrigin& origin) {
  const uint16_t host = target_.host_id();
  if (Status s = ValidateControlRequest(words); !s.ok()) {
    return ControlRefusal(host, "invalid", s.message());
  }
  const std::string& command = words.front();
  const bool reads = command == "query" || command == "params" || command == "display" ||
                     command == "report" || command == "reload-check" || command == "owner";
  if (origin.remote()) {
    // Who asked, before what the command does is logged (or refused) by the target.
    std::string request;
    for (const std::string& w : words) request += (request.empty() ? "" : " ") + w;
    Log(reads ? LogLevel::kDebug : LogLevel::kNotice, "control",
        "remote request '" + request + "' from " + origin.peer.ToString());
  }
  const bool reads_only = command == "query" || command == "params" || command == "display" ||
                          command == "report" || command == "owner";
  if (origin.remote() && target_.suspended() && !reads_only && command != "resume") {
    target_.NoteRefusedRemote(command, origin);
    return ControlRefusal(host, "refused",
                          "host " + std::to_string(host) +
                              " is suspended: remotely it answers only query, params, report, "
                              "owner and resume");
  }
  if (command == "query") return target_.Query();
  if (command == "params" || command == "display") return target_.Params();
  if (command == "report") return target_.Report();
  if (command == "owner") {
    const Result<OwnerQuery> query =
        ParseOwnerQuery(std::span<const std::string>(words).subspan(1));
    if (!query.ok()) return ControlRefusal(host, "invalid", query.status().message());
    return target_.Owner(query.value());
  }
  if (command == "start") return target_.Command(HostCommand::kStart);
  if (command == "stop") return target_.Command(HostCommand::kStop);
  if (command == "drainstop") return target_.Command(HostCommand::kDrainstop);
  if (command == "suspend") return target_.Command(HostCommand::kSuspend);
  if (command == "resume") return target_.Command(HostCommand::kResume);
  if (command == "enable" || command == "disable" || command == "drain") {
    auto selector = ParseRuleSelector(words[1]);
    if (!selector.ok()) return ControlRefusal(host, "invalid", selector.status().message());
    const RuleControl control = command == "enable"    ? RuleControl::kEnabled
                                : command == "disable" ? RuleControl::kDisabled
                                                       : RuleControl::kDraining;
    return target_.SetRuleControl(selector.value(), control);
  }
  if (command == "reload-check") return target_.ReloadCheck();
  if (command == "reload") return target_.ReloadNow(origin);
  if (command == "log-level") {
    // The level is the process's, not the agent's state: set here, no target method needed.
    const LogLevel was = CurrentLogLevel();
    const LogLevel level = ParseLogLevel(words[1]).value_or(was);
    const std::string line = "log level " + std::string(LogLevelName(level)) + " (was " +
                             std::string(LogLevelName(was)) + ") by operator";
    // Written under the more verbose of the two levels, so that the change itself is seen.
    if (level < was) LogNotice("control", line);
    SetLogLevel(level);
    if (level >= was) LogNotice("control", line);
    return ControlDone(host, line);
  }
  return ControlRefusal(host, "invalid", "'" + command + "' is not a command an agent answers");
}

}  // namespace nlb::agent
