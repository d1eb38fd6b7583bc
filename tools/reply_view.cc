#include "tools/reply_view.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <utility>

namespace nlb {
namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

std::string ScalarText(const YAML::Node& node) {
  if (node.IsNull()) return "-";
  if (node.IsScalar()) return node.Scalar();
  if (node.IsSequence()) {
    std::string joined;
    for (const YAML::Node& item : node) {
      if (!joined.empty()) joined += ", ";
      joined += ScalarText(item);
    }
    return joined.empty() ? "-" : joined;
  }
  return "{...}";
}

bool IsTable(const YAML::Node& node) {
  if (!node.IsSequence() || node.size() == 0) return false;
  return std::all_of(node.begin(), node.end(), [](const YAML::Node& n) { return n.IsMap(); });
}

// Appends name/value pairs for every scalar under node, nested maps flattened as "a.b".
void Flatten(const YAML::Node& node, const std::string& prefix, Lines* out,
             std::vector<std::pair<std::string, YAML::Node>>* tables) {
  for (const auto& entry : node) {
    const std::string name = prefix + entry.first.Scalar();
    const YAML::Node& value = entry.second;
    if (value.IsMap()) {
      Flatten(value, name + ".", out, tables);
    } else if (IsTable(value) && tables != nullptr) {
      tables->emplace_back(name, value);
    } else {
      out->emplace_back(name, ScalarText(value));
    }
  }
}

std::string RenderTable(const std::string& name, const YAML::Node& rows_node) {
  std::vector<std::string> columns;
  std::vector<Lines> rows;
  for (const YAML::Node& item : rows_node) {
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
  YAML::Node root;
  try {
    root = YAML::Load(std::string(json));
  } catch (const YAML::Exception&) {
    root = YAML::Node();
  }
  if (!root.IsMap() || !root["ok"] || !root["ok"].IsScalar() ||
      (root["ok"].Scalar() != "true" && root["ok"].Scalar() != "false")) {
    view.exit = ControlExit::kInternal;
    view.error = "the agent's reply is not a control reply: " + std::string(json.substr(0, 200));
    view.text = view.error + "\n";
    return view;
  }
  if (root["host"] && root["host"].IsScalar()) view.host = root["host"].Scalar();
  const std::string who = view.host.empty() ? "agent" : "host " + view.host;
  if (root["ok"].Scalar() == "false") {
    const std::string code =
        root["code"] && root["code"].IsScalar() ? root["code"].Scalar() : "internal";
    view.exit = ExitForReplyCode(code);
    view.error =
        root["error"] && root["error"].IsScalar() ? root["error"].Scalar() : "no reason given";
    view.text = who + ": " + std::string(command) + " " + code + ": " + view.error + "\n";
    return view;
  }
  Lines lines;
  std::vector<std::pair<std::string, YAML::Node>> tables;
  for (const auto& entry : root) {
    const std::string name = entry.first.Scalar();
    if (name == "ok" || name == "host") continue;
    if (entry.second.IsMap()) {
      Flatten(entry.second, name + ".", &lines, &tables);
    } else if (IsTable(entry.second)) {
      tables.emplace_back(name, entry.second);
    } else {
      lines.emplace_back(name, ScalarText(entry.second));
    }
  }
  view.text = who + ": " + std::string(command) + " ok\n";
  std::vector<std::vector<std::string>> pairs;
  for (auto& [name, value] : lines) pairs.push_back({name, value});
  view.text += FormatTable(pairs, "");
  for (const auto& [name, rows] : tables) view.text += "\n" + RenderTable(name, rows);
  return view;
}

}  // namespace nlb
