#include "common/control_request.h"

namespace nlb {

Result<std::vector<std::string>> SplitControlRequest(std::string_view line) {
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
