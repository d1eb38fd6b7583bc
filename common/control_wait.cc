#include "common/control_wait.h"

#include <charconv>

namespace nlb {

bool CommandCanWait(std::string_view command) {
  return command == "start" || command == "stop" || command == "drainstop" || command == "enable" ||
         command == "disable" || command == "drain";
}

std::string ControlWaitWord(std::chrono::milliseconds wait) {
  return "wait=" + std::to_string(wait.count());
}

Result<std::optional<std::chrono::milliseconds>> TakeControlWait(std::vector<std::string>& words) {
  constexpr std::string_view kPrefix = "wait=";
  if (words.size() < 2 || !words.back().starts_with(kPrefix)) {
    return std::optional<std::chrono::milliseconds>();
  }
  const std::string_view digits = std::string_view(words.back()).substr(kPrefix.size());
  long long ms = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  if (ec != std::errc() || end != digits.data() + digits.size() || ms < 1 ||
      ms > kMaxControlWait.count()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "'" + words.back() + "' is not a wait: use wait=MS with MS from 1 to " +
                             std::to_string(kMaxControlWait.count()));
  }
  if (!CommandCanWait(words.front())) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "'" + words.front() +
                             "' does not wait: only start, stop, drainstop, enable, disable and "
                             "drain take wait=MS");
  }
  words.pop_back();
  return std::optional<std::chrono::milliseconds>(ms);
}

}  // namespace nlb
