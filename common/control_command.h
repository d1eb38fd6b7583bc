// ControlCommand: the table of control commands (docs/control.md "Commands") with their argument
// and help text, and the check of a request's words against it. nlbctl uses it to refuse a bad
// command line before connecting and to print help; the agent may use ValidateControlRequest to
// answer "invalid" uniformly. Pure; safe from any thread (the table is constant).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nlb {

struct ControlCommand {
  // kFlow: CLIENT[:PORT] [VIP:PORT] [tcp|udp], one to three words (common/flow_owner.h).
  enum class Argument : uint8_t { kNone = 0, kRule, kVip, kFile, kFlow, kLevel };
  std::string_view name;
  Argument argument = Argument::kNone;
  // False for nlbctl's own commands (ip2mac, keygen), which never reach an agent.
  bool sent_to_agent = true;
  // True when the command changes the host's state (the ones --cluster is mostly for).
  bool changes_state = false;
  std::string_view summary;  // one line, for the command list
  std::string_view details;  // a paragraph, for `nlbctl help COMMAND`
};

// The agent's log levels, most to least severe, as log-level and nlbd --log-level take them.
inline constexpr std::string_view kControlLogLevels[] = {"error", "warning", "notice", "info",
                                                         "debug"};

bool IsControlLogLevel(std::string_view word);

// Every command, in the order help lists them.
std::span<const ControlCommand> ControlCommands();

// nullptr when name is not a command.
const ControlCommand* FindControlCommand(std::string_view name);

// "RULE", "VIP", "FILE", "CLIENT[:PORT] [VIP:PORT]", "LEVEL" or "" for the argument's placeholder.
std::string_view ArgumentPlaceholder(ControlCommand::Argument argument);

// Checks words (command first) against the table: a known command that goes to an agent, the
// right number of arguments, a RULE that parses, a LEVEL that is one of kLogLevelWords.
// kInvalidArgument with a sentence saying what is wrong and what would be right.
Status ValidateControlRequest(std::span<const std::string> words);

}  // namespace nlb
