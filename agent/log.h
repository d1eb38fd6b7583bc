// Log: the agent's one way to report, one line per event on stderr in a form journald keeps well.
//
// When stderr is not a terminal each line starts with a syslog priority prefix ("<6>"), which
// journald turns into the entry's level; on a terminal it reads "INFO  heartbeat: message".
// Thread-safe: a line is written with one write(2) call.
#pragma once

#include <string_view>

namespace nlb::agent {

enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// Lines below this level are not written. Default kInfo.
void SetLogLevel(LogLevel level);
void Log(LogLevel level, std::string_view component, std::string_view message);

inline void LogError(std::string_view c, std::string_view m) { Log(LogLevel::kError, c, m); }
inline void LogWarning(std::string_view c, std::string_view m) { Log(LogLevel::kWarning, c, m); }
inline void LogNotice(std::string_view c, std::string_view m) { Log(LogLevel::kNotice, c, m); }
inline void LogInfo(std::string_view c, std::string_view m) { Log(LogLevel::kInfo, c, m); }
inline void LogDebug(std::string_view c, std::string_view m) { Log(LogLevel::kDebug, c, m); }

}  // namespace nlb::agent
