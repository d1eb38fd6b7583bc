#include "tools/reply_view.h"

#include <algorithm>
#include <utility>

#include "tools/json_reply.h"

namespace nlb {
namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

bool IsTable(const Json& node) {
  if (!node.is_array() || node.empty()) return false;
  return std::all_of(node.begin(), node.end(), [](const Json& n) { return n.is_object(); });
}

// Appends name/value pairs for every scalar under node, nested objects flattened as "a.b".
void Flatten(const Json& node, const std::string& prefix, Lines* out,
             std::vector<std::pair<std::string, const Json*>>* tables) {
  for (const auto& [key, value] : node.items()) {
    const std::string name = prefix + key;
    if (value.is_object()) {
      Flatten(value, name + ".", out, tables);
    } else if (IsTable(value) && tables != nullptr) {
      tables->emplace_back(name, &value);
    } else {
      out->emplace_back(name, JsonCellText(value));
    }
  }
}

std::string RenderTable(const std::string& name, const Json& rows_node) {
  std::vector<std::string> columns;
  std::vector<Lines> rows;
  for (const Json& item : rows_node) {
    Lines cells;
    Flatten(item, "", &cells, nullptr);
    for (const auto& [column, unused] : cells) {
      if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
        columns.push_back(column);
      }
    }
    rows.push_back(std::move(cells));
  }
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> heading;
  for (const std::string& c : columns) {
    std::string upper = c;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    heading.push_back(upper);
  }
  table.push_back(std::move(heading));
  for (const Lines& cells : rows) {
    std::vector<std::string> row;
    for (const std::string& c : columns) {
      const auto it = std::find_if(cells.begin(), cells.end(),
                                   [&](const auto& cell) { return cell.first == c; });
      row.push_back(it == cells.end() ? "-" : it->second);
    }
    table.push_back(std::move(row));
  }
  return name + ":\n" + FormatTable(table, "  ");
}

}  // namespace

std::string FormatTable(const std::vector<std::vector<std::string>>& rows,
                        std::string_view indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

ReplyView ViewReply(std::string_view command, std::string_view json) {
  ReplyView view;
  const std::optional<Json> parsed = ParseJson(json);
  const Json* ok = parsed ? JsonField(*parsed, "ok") : nullptr;
  if (ok == nullptr || !ok->is_boolean()) {
    view.exit = ControlExit::kInternal;
    view.error = "the agent's reply is not a control reply: " + std::string(json.substr(0, 200));
    view.text = view.error + "\n";
    return view;
  }
  const Json& root = *parsed;
  if (const Json* host = JsonField(root, "host"); host != nullptr && !host->is_structured()) {
    view.host = JsonCellText(*host);
  }
  const std::string who = view.host.empty() ? "agent" : "host " + view.host;
  if (!ok->get<bool>()) {
    const Json* code_field = JsonField(root, "code");
    const std::string code = code_field != nullptr && code_field->is_string()
                                 ? code_field->get<std::string>()
                                 : "internal";
    view.exit = ExitForReplyCode(code);
    const Json* error = JsonField(root, "error");
    view.error = error != nullptr && !error->is_structured() && !error->is_null()
                     ? JsonCellText(*error)
                     : "no reason given";
    view.text = who + ": " + std::string(command) + " " + code + ": " + view.error + "\n";
    return view;
  }
  Lines lines;
  std::vector<std::pair<std::string, const Json*>> tables;
  for (const auto& [name, value] : root.items()) {
    if (name == "ok" || name == "host") continue;
    if (value.is_object()) {
      Flatten(value, name + ".", &lines, &tables);
    } else if (IsTable(value)) {
      tables.emplace_back(name, &value);
    } else {
      lines.emplace_back(name, JsonCellText(value));
    }
  }
  view.text = who + ": " + std::string(command) + " ok\n";
  std::vector<std::vector<std::string>> pairs;
  for (auto& [name, value] : lines) pairs.push_back({name, value});
  view.text += FormatTable(pairs, "");
  for (const auto& [name, rows] : tables) view.text += "\n" + RenderTable(name, *rows);
  return view;
}

}  // namespace nlb
