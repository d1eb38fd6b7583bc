// Log: the agent's one way to report, one line per event on stderr, in the form its reader keeps:
//   journal (systemd's JOURNAL_STREAM names stderr): "<6>heartbeat: message", the syslog priority
//     prefix that journald turns into the entry's level (it stamps the time itself);
//   a terminal: "INFO   heartbeat: message";
//   anything else (a file, a pipe): "2026-12-04T02:43:10.123Z INFO   heartbeat: message", UTC.
// The level (default info) can be set at start (nlbd --log-level) and at run time (nlbctl
// log-level). Thread-safe: a line is written with one write(2) call; the level is atomic.
#pragma once

#include <optional>
#include <string_view>

namespace nlb::agent {

enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// Lines below this level are not written. Default kInfo.
void SetLogLevel(LogLevel level);
LogLevel CurrentLogLevel();

// "error", "warning", "notice", "info", "debug"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view word);
std::string_view LogLevelName(LogLevel level);
inline constexpr std::string_view kLogLevelWords = "error, warning, notice, info or debug";

void Log(LogLevel level, std::string_view component, std::string_view message);

inline void LogError(std::string_view c, std::string_view m) { Log(LogLevel::kError, c, m); }
inline void LogWarning(std::string_view c, std::string_view m) { Log(LogLevel::kWarning, c, m); }
inline void LogNotice(std::string_view c, std::string_view m) { Log(LogLevel::kNotice, c, m); }
inline void LogInfo(std::string_view c, std::string_view m) { Log(LogLevel::kInfo, c, m); }
inline void LogDebug(std::string_view c, std::string_view m) { Log(LogLevel::kDebug, c, m); }

}  // namespace nlb::agent
