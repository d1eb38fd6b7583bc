#include "common/control_request.h"

#include <string>

namespace nlb {

Result<std::vector<std::string>> SplitControlRequest(std::string_view line) {
  // A NUL would end the word early wherever it reaches a C API; nothing legitimate sends one.
  if (const size_t nul = line.find('\0'); nul != std::string_view::npos) {
    return Status::Error(ErrorCode::kInvalidArgument, "request holds a NUL byte (at offset " +
                                                          std::to_string(nul) +
                                                          "); send plain text such as 'query'");
  }
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  if (words.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "empty request: send a command such as 'query'");
  }
  return words;
}

}  // namespace nlb
