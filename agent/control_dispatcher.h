// ControlDispatcher: routes one control request (docs/control.md), from the local socket or over
// TLS, to what the agent does. It validates the request's words, applies `suspend` (a suspended
// host answers remotely only query, params, report and resume) and calls one method of its
// ControlTarget; it holds no state of the agent's and decides nothing else, so the routing is
// tested against a fake target (tests/agent/control_dispatcher_test.cc).
//
// Runs on the agent's io_context thread, like the target it calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/control_origin.h"
#include "common/control_rule.h"
#include "common/convergence.h"

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
  virtual std::string Command(HostCommand command) = 0;
  virtual std::string SetRuleControl(const RuleSelector& selector, RuleControl control) = 0;
  virtual std::string ReloadCheck() = 0;
  virtual std::string ReloadNow(const RequestOrigin& origin) = 0;
};

class ControlDispatcher {
 public:
  explicit ControlDispatcher(ControlTarget& target) : target_(target) {}
  std::string Handle(const std::vector<std::string>& words, const RequestOrigin& origin);

 private:
  ControlTarget& target_;
};

}  // namespace nlb::agent
