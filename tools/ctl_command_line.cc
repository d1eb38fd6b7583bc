#include "tools/ctl_command_line.h"

#include <algorithm>
#include <charconv>

#include "common/control_rule.h"
#include "common/control_wait.h"
#include "common/flow_owner.h"
#include "common/version.h"

namespace nlb {

std::string_view DefaultConfigPath() { return NLB_CONFIG_FILE; }

namespace {

Status Invalid(std::string message) {
  return Status::Error(ErrorCode::kInvalidArgument, std::move(message));
}

// ADDR, ADDR:PORT for IPv4, ADDR or [ADDR]:PORT for IPv6.
Status ParseHost(std::string_view text, CtlCommandLine* line) {
  std::string_view address = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
      return Invalid("--host: '" + std::string(text) + "' is not ADDR or [IPv6]:PORT");
    }
    address = text.substr(1, close - 1);
    if (close + 1 < text.size()) port = text.substr(close + 2);
  } else if (const size_t colon = text.find(':');
             colon != std::string_view::npos &&
             text.find(':', colon + 1) == std::string_view::npos) {
    address = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const std::optional<IpAddress> ip = IpAddress::Parse(address);
  if (!ip) {
    return Invalid("--host: '" + std::string(text) +
                   "' is not an IP address (ADDR, ADDR:PORT or [IPv6]:PORT)");
  }
  line->host = *ip;
  if (!port.empty() || (text.size() > address.size() && text.back() == ':')) {
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return Invalid("--host: '" + std::string(port) + "' is not a port (1-65535)");
    }
    line->host_port = static_cast<uint16_t>(value);
  }
  return Status::Ok();
}

Status ParseMilliseconds(std::string_view option, std::string_view text, int64_t min,
                         std::chrono::milliseconds* out) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
      value > kMaxControlTimeout.count()) {
    return Invalid(std::string(option) + ": '" + std::string(text) +
                   "' is not a number of milliseconds (" + std::to_string(min) + "-" +
                   std::to_string(kMaxControlTimeout.count()) + ")");
  }
  *out = std::chrono::milliseconds(value);
  return Status::Ok();
}

// "watch [query|report]": the view becomes the command; watch itself is nlbctl's loop.
Status TakeWatch(CtlCommandLine* line) {
  if (line->words.empty() || line->words[0] != "watch") return Status::Ok();
  line->watch = true;
  line->words.erase(line->words.begin());
  if (line->words.empty()) line->words.emplace_back("query");
  if (line->words[0] != "query" && line->words[0] != "report") {
    return Invalid("watch shows query or report, not '" + line->words[0] + "'");
  }
  return Status::Ok();
}

// Checks that fit only once every argument is known.
Status CheckCombination(CtlCommandLine* line, std::vector<std::string>* seen_options) {
  const auto given = [&](std::string_view name) {
    for (const std::string& s : *seen_options) {
      if (s == name) return true;
    }
    return false;
  };
  if (line->words.empty()) return Invalid("no command given");
  if (Status s = TakeWatch(line); !s.ok()) return s;
  const ControlCommand* command = FindControlCommand(line->words[0]);
  if (command == nullptr) return Invalid("unknown command '" + line->words[0] + "'");
  line->command = command;
  const std::string name(command->name);
  const std::string placeholder(ArgumentPlaceholder(command->argument));
  if (command->argument == ControlCommand::Argument::kNone && line->words.size() > 1) {
    return Invalid(name + " takes no argument ('" + line->words[1] + "' is extra)");
  }
  const bool batch = !line->flows_path.empty();
  if (batch) {
    if (command->argument != ControlCommand::Argument::kFlow) {
      return Invalid("--flows goes only with owner");
    }
    if (line->words.size() > 1) {
      return Invalid("owner takes its flows from --flows or from its arguments, not both ('" +
                     line->words[1] + "' is extra)");
    }
    if (line->cluster || line->watch)
      return Invalid("--flows asks one agent: no --cluster or watch");
  } else if (command->argument != ControlCommand::Argument::kNone && line->words.size() < 2) {
    return Invalid(name + " needs " + placeholder);
  }
  if (batch) {
    // Each line of the file is checked as it is read (tools/owner_batch.h).
  } else if (command->argument == ControlCommand::Argument::kFlow) {
    if (!line->protocol.empty()) line->words.push_back(line->protocol);
    const Result<OwnerQuery> query =
        ParseOwnerQuery(std::span<const std::string>(line->words).subspan(1));
    if (!query.ok()) return query.status();
  } else if (line->words.size() > 2) {
    return Invalid(name + " takes one " + placeholder + " ('" + line->words[2] + "' is extra)");
  }
  if (!line->protocol.empty() && command->argument != ControlCommand::Argument::kFlow) {
    return Invalid("--protocol goes only with owner");
  }
  if (command->argument == ControlCommand::Argument::kRule) {
    const Result<RuleSelector> rule = ParseRuleSelector(line->words[1]);
    if (!rule.ok()) return rule.status();
  }
  if (command->argument == ControlCommand::Argument::kLevel && !IsControlLogLevel(line->words[1])) {
    return Invalid(name + ": '" + line->words[1] +
                   "' is not a log level; use error, warning, notice, info or debug");
  }
  if (command->argument == ControlCommand::Argument::kVip && !IpAddress::Parse(line->words[1])) {
    return Invalid(name + ": '" + line->words[1] + "' is not an IP address");
  }
  if (line->force && command->name != "keygen") return Invalid("--force goes only with keygen");
  if (given("--interval-ms") && !line->watch && !line->cluster) {
    return Invalid("--interval-ms goes with watch or with --cluster query/report");
  }
  if (!command->sent_to_agent) {
    for (std::string_view option : {"--host", "--cluster", "--socket", "--key", "--timeout-ms"}) {
      if (given(option)) {
        return Invalid(name + " runs here without an agent; " + std::string(option) +
                       " does not apply");
      }
    }
  }
  if (given("--socket") && line->host) {
    return Invalid("--socket and --host both say which agent to ask; give one");
  }
  // Commands that change what a host announces return once the cluster has converged on them
  // (docs/control.md, "When a command returns"), unless --no-wait.
  if (!CommandCanWait(command->name) || line->watch) {
    line->wait = std::chrono::milliseconds(0);
    if (given("--no-wait") || given("--wait-ms")) {
      return Invalid(
          "--no-wait and --wait-ms go only with start, stop, drainstop, enable, "
          "disable and drain");
    }
  } else if (given("--no-wait") && given("--wait-ms")) {
    return Invalid("--no-wait and --wait-ms contradict each other; give one");
  } else if (given("--no-wait")) {
    line->wait = std::chrono::milliseconds(0);
  } else {
    line->words.push_back(ControlWaitWord(line->wait));
    line->timeout += line->wait;
  }
  return Status::Ok();
}

}  // namespace

Result<CtlCommandLine> ParseCtlCommandLine(std::span<const std::string_view> args) {
  CtlCommandLine line;
  std::vector<std::string> seen;
  bool help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.empty()) return Invalid("empty argument");
    if (arg == "-h" || arg == "--help") {
      help = true;
      continue;
    }
    if (arg.front() != '-' || arg == "-") {
      line.words.emplace_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (name == "--version" || name == "-V") {
      if (value) return Invalid(std::string(name) + " takes no value");
      line.action = CtlCommandLine::Action::kVersion;
      continue;
    }
    const bool flag =
        name == "--cluster" || name == "--json" || name == "--force" || name == "--no-wait";
    const bool takes_value = name == "--config" || name == "--socket" || name == "--host" ||
                             name == "--key" || name == "--timeout-ms" || name == "--interval-ms" ||
                             name == "--protocol" || name == "--wait-ms" || name == "--flows";
    if (!flag && !takes_value) {
      return Invalid("unknown option '" + std::string(name) + "'");
    }
    for (const std::string& s : seen) {
      if (s == name) return Invalid(std::string(name) + " given twice");
    }
    seen.emplace_back(name);
    if (flag) {
      if (value) return Invalid(std::string(name) + " takes no value");
      if (name == "--cluster") line.cluster = true;
      if (name == "--json") line.json = true;
      if (name == "--force") line.force = true;
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) return Invalid(std::string(name) + " needs a value");
      value = args[++i];
    }
    if (value->empty()) return Invalid(std::string(name) + " needs a non-empty value");
    if (name == "--config") {
      line.config_path = std::string(*value);
      line.config_given = true;
    } else if (name == "--socket") {
      line.socket_path = std::string(*value);
    } else if (name == "--flows") {
      line.flows_path = std::string(*value);
    } else if (name == "--key") {
      line.key_path = std::string(*value);
    } else if (name == "--host") {
      if (Status s = ParseHost(*value, &line); !s.ok()) return s;
    } else if (name == "--protocol") {
      if (*value != "tcp" && *value != "udp") {
        return Invalid("--protocol: '" + std::string(*value) + "' is not tcp or udp");
      }
      line.protocol = std::string(*value);
    } else if (name == "--wait-ms") {
      if (Status s = ParseMilliseconds(name, *value, 1, &line.wait); !s.ok()) return s;
    } else if (name == "--interval-ms") {
      if (Status s = ParseMilliseconds(name, *value, kMinViewInterval.count(), &line.interval);
          !s.ok()) {
        return s;
      }
    } else if (Status s = ParseMilliseconds(name, *value, 1, &line.timeout); !s.ok()) {
      return s;
    }
  }
  if (line.action == CtlCommandLine::Action::kVersion) return line;
  // "nlbctl help [COMMAND]" and "nlbctl [COMMAND] --help".
  if (!line.words.empty() && line.words[0] == "help") {
    help = true;
    line.words.erase(line.words.begin());
  }
  if (help) {
    line.action = CtlCommandLine::Action::kHelp;
    if (line.words.size() > 1) return Invalid("help takes at most one COMMAND");
    if (!line.words.empty()) {
      line.help_command = FindControlCommand(line.words[0]);
      if (line.help_command == nullptr) {
        return Invalid("help: unknown command '" + line.words[0] + "'");
      }
    }
    return line;
  }
  if (Status s = CheckCombination(&line, &seen); !s.ok()) return s;
  return line;
}

std::string CtlUsageText() {
  std::string text =
      "Usage: nlbctl [OPTIONS] COMMAND [ARG]\n"
      "       nlbctl help [COMMAND]\n"
      "\n"
      "Controls nlbd, the nlb agent: this host's over its local socket, another host's over\n"
      "TLS (--host), or every host of the cluster (--cluster).\n"
      "\n"
      "Commands:\n"
      "  watch [VIEW]    query or report (default query) again every --interval-ms until\n"
      "                  interrupted; with --cluster, the merged table\n";
  for (const ControlCommand& c : ControlCommands()) {
    std::string left = "  " + std::string(c.name);
    if (c.argument != ControlCommand::Argument::kNone) {
      left += " " + std::string(ArgumentPlaceholder(c.argument));
    }
    left.resize(std::max<size_t>(left.size() + 1, 18), ' ');
    text += left + std::string(c.summary) + "\n";
  }
  text +=
      "\n"
      "Options:\n"
      "  --config FILE      configuration to read (default " NLB_CONFIG_FILE
      "): cluster name,\n"
      "                     host id, control port, key file\n"
      "  --socket PATH      local agent socket (default /run/nlb/<cluster>-<host id>.sock)\n"
      "  --host ADDR[:PORT] ask the agent at ADDR over TLS (port: control.port, 2505)\n"
      "  --cluster          send the command to every host the agent's query lists\n"
      "  --key FILE         cluster key for --host/--cluster (default: heartbeat.key_file)\n"
      "  --json             print the agent's JSON reply (an array with --cluster)\n"
      "  --timeout-ms N     give up on a host after N ms (default 3000)\n"
      "  --interval-ms N    watch: refresh every N ms; --cluster query/report: the gap between\n"
      "                     the two reports packets/s comes from (default 1000, at least 100)\n"
      "  --force            keygen: replace an existing key file\n"
      "  --wait-ms N        start, stop, drainstop, enable, disable, drain: return once the\n"
      "                     cluster has converged on the change, at most N ms (default 10000;\n"
      "                     exit 8 if it has not: the change stays)\n"
      "  --no-wait          ... return as soon as this host has applied it\n"
      "  --protocol P       owner: the flow's protocol, tcp or udp (default tcp, or udp when\n"
      "                     only a UDP rule covers VIP:PORT)\n"
      "  --flows FILE       owner: one flow per line of FILE (- for standard input), each\n"
      "                     CLIENT[:PORT] [VIP:PORT] [tcp|udp]; --json: one reply per line\n"
      "  -h, --help         this text; with a COMMAND, that command's help\n"
      "  -V, --version      print nlbctl's version\n"
      "\n"
      "Exit status: 0 ok, 1 internal error, 2 invalid, 3 no such rule, 4 already in that state,\n"
      "5 refused, 6 host unreachable, 7 timed out, 8 not in force within --wait-ms\n"
      "(docs/control.md).\n";
  return text;
}

std::string CtlVersionText() { return "nlbctl " + std::string(NlbVersion()) + "\n"; }

std::string CtlCommandHelpText(const ControlCommand& command) {
  std::string usage = "Usage: nlbctl [OPTIONS] " + std::string(command.name);
  if (command.argument != ControlCommand::Argument::kNone) {
    usage += " " + std::string(ArgumentPlaceholder(command.argument));
  }
  if (command.name == "keygen") usage += " [--force]";
  if (command.name == "owner") usage += " [--protocol tcp|udp]\n       nlbctl owner --flows FILE";
  return usage + "\n\n" + std::string(command.summary) + ".\n" + std::string(command.details) +
         "\n" +
         (command.sent_to_agent
              ? "\nRuns on the local agent, the one --host names, or every host with --cluster.\n"
              : "\nRuns in nlbctl; no agent is asked.\n");
}

}  // namespace nlb
