#include "agent/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace nlb::agent {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

enum class Sink { kJournal, kTerminal, kPlain };

// systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected; stderr is the journal
// only if it is still that stream (a redirect in a unit's ExecStart makes it something else).
bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device &&
         static_cast<unsigned long long>(st.st_ino) == inode;
}

Sink DetectSink() {
  if (StderrIsJournal()) return Sink::kJournal;
  if (isatty(STDERR_FILENO) == 1) return Sink::kTerminal;
  return Sink::kPlain;
}

std::string_view LevelWord(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "ERROR ";
    case LogLevel::kWarning:
      return "WARN  ";
    case LogLevel::kNotice:
      return "NOTICE";
    case LogLevel::kInfo:
      return "INFO  ";
    case LogLevel::kDebug:
      return "DEBUG ";
  }
  return "?     ";
}

void AppendTimestamp(std::string* line) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[40];
  const size_t n = std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof(stamp) - n, ".%03dZ ", static_cast<int>(millis));
  *line += stamp;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel CurrentLogLevel() { return static_cast<LogLevel>(g_level.load()); }

std::optional<LogLevel> ParseLogLevel(std::string_view word) {
  for (LogLevel l : {LogLevel::kError, LogLevel::kWarning, LogLevel::kNotice, LogLevel::kInfo,
                     LogLevel::kDebug}) {
    if (word == LogLevelName(l)) return l;
  }
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kNotice:
      return "notice";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "info";
}

void Log(LogLevel level, std::string_view component, std::string_view message) {
  if (static_cast<int>(level) > g_level.load(std::memory_order_relaxed)) return;
  static const Sink kSink = DetectSink();
  std::string line;
  line.reserve(message.size() + component.size() + 40);
  if (kSink == Sink::kJournal) {
    line += '<';
    line += static_cast<char>('0' + static_cast<int>(level));
    line += '>';
  } else {
    if (kSink == Sink::kPlain) AppendTimestamp(&line);
    line += LevelWord(level);
    line += ' ';
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
