#include "agent/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace nlb::agent {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

std::string_view LevelWord(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "ERROR ";
    case LogLevel::kWarning: return "WARN  ";
    case LogLevel::kNotice: return "NOTICE";
    case LogLevel::kInfo: return "INFO  ";
    case LogLevel::kDebug: return "DEBUG ";
  }
  return "?     ";
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

void Log(LogLevel level, std::string_view component, std::string_view message) {
  if (static_cast<int>(level) > g_level.load(std::memory_order_relaxed)) return;
  static const bool kTerminal = isatty(STDERR_FILENO) == 1;
  std::string line;
  line.reserve(message.size() + component.size() + 16);
  if (kTerminal) {
    line += LevelWord(level);
    line += ' ';
  } else {
    line += '<';
    line += static_cast<char>('0' + static_cast<int>(level));
    line += '>';
  }
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  // One write per line keeps lines from interleaving across threads; a failed write to stderr
  // has nowhere better to be reported.
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace nlb::agent
