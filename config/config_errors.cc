#include "config/config_errors.h"

#include <algorithm>

namespace nlb {

namespace {

std::string Line(const std::string& source, SourceLocation where, std::string_view field,
                 std::string_view message) {
  std::string text = source;
  if (where.line > 0) {
    text += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
  }
  text += ": ";
  if (!field.empty()) {
    text += field;
    text += ": ";
  }
  text += message;
  return text;
}

}  // namespace

void ConfigErrors::Add(SourceLocation where, std::string_view field, std::string_view message) {
  errors_.push_back({where, Line(source_name_, where, field, message)});
}

void ConfigErrors::Warn(SourceLocation where, std::string_view field, std::string_view message) {
  warnings_.push_back(Line(source_name_, where, field, message));
}

Status ConfigErrors::ToStatus() const {
  if (errors_.empty()) return Status::Ok();
  // Checks run section by section (overlaps only after all rules are read), so sort to give the
  // reader the file's order; stable keeps several errors on one spot in the order they were found.
  std::vector<const Entry*> sorted;
  for (const Entry& e : errors_) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    if (a->where.line != b->where.line) return a->where.line < b->where.line;
    return a->where.column < b->where.column;
  });
  std::string message;
  for (const Entry* e : sorted) {
    if (!message.empty()) message += '\n';
    message += e->text;
  }
  return Status::Error(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace nlb
