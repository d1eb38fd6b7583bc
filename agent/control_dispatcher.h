// ControlDispatcher: routes one control request (docs/control.md), from the local socket or over
// TLS, to what the agent does. It validates the request's words, applies `suspend` (a suspended
// host answers remotely only query, params, report, owner and resume) and calls one method of its
// ControlTarget; it holds no state of the agent's and decides nothing else, so the routing is
// tested against a fake target (tests/agent/control_dispatcher_test.cc). A command that carries
// `wait=MS` (common/control_wait.h) and succeeds is answered through ControlTarget::AwaitInForce,
// later, once the cluster has converged on it or the wait has passed; nothing blocks meanwhile.
//
// Runs on the agent's io_context thread, like the target it calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/control_origin.h"
#include "common/control_rule.h"
#include "common/convergence.h"
#include "common/flow_owner.h"

namespace nlb::agent {

// Per-rule state an operator set on this host with enable/disable/drain.
enum class RuleControl : uint8_t { kEnabled = 0, kDisabled, kDraining };
const char* RuleControlName(RuleControl control);  // "enabled", "disabled", "draining"

// What a host-wide command asks for.
enum class HostCommand : uint8_t { kStart = 0, kStop, kDrainstop, kSuspend, kResume };

// What the dispatcher calls; every method returns the JSON reply (common/control_reply.h).
class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  virtual uint16_t host_id() const = 0;
  virtual bool suspended() const = 0;
  // A remote command refused because the host is suspended: count and log it.
  virtual void NoteRefusedRemote(const std::string& command, const RequestOrigin& origin) = 0;
  virtual std::string Query() const = 0;
  virtual std::string Params() const = 0;
  virtual std::string Report() const = 0;
  virtual std::string Owner(const OwnerQuery& query) const = 0;
  virtual std::string Command(HostCommand command) = 0;
  virtual std::string SetRuleControl(const RuleSelector& selector, RuleControl control) = 0;
  virtual std::string ReloadCheck() = 0;
  virtual std::string ReloadNow(const RequestOrigin& origin) = 0;
  // Sends done_reply (the command's success) through reply once the change is in force, or a
  // not_in_force refusal after `wait` (common/command_in_force.h). what: the request's words.
  virtual void AwaitInForce(std::string what, std::string done_reply,
                            std::chrono::milliseconds wait,
                            std::function<void(std::string)> reply) = 0;
};

class ControlDispatcher {
 public:
  explicit ControlDispatcher(ControlTarget& target) : target_(target) {}
  // Answers through reply, at once or (a command with wait=MS) once it is in force.
  void Handle(std::vector<std::string> words, const RequestOrigin& origin,
              std::function<void(std::string)> reply);
  // The immediate answer, without waiting (words hold no wait=MS).
  std::string Handle(const std::vector<std::string>& words, const RequestOrigin& origin);

 private:
  ControlTarget& target_;
};

}  // namespace nlb::agent
