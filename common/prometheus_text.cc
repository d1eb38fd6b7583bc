#include "common/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <vector>

namespace nlb {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and line feed; label values also the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

bool IsMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  for (char c : name) {
    if (!IsNameChar(c) && c != ':') return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.starts_with("__")) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counters reach 2^53 long after any real scrape; below it an integer prints exactly.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

void PrometheusText::Fail(std::string message) {
  if (status_.ok()) status_ = Status::Error(ErrorCode::kInternal, std::move(message));
}

PrometheusText& PrometheusText::Family(std::string_view name, MetricType type,
                                       std::string_view help) {
  family_.clear();
  if (!IsMetricName(name)) {
    Fail("'" + std::string(name) + "' is not a metric name");
    return *this;
  }
  if (type == MetricType::kCounter && !name.ends_with("_total")) {
    Fail("counter '" + std::string(name) + "' must end in _total");
    return *this;
  }
  if (!families_.emplace(name).second) {
    Fail("metric family '" + std::string(name) + "' written twice");
    return *this;
  }
  family_ = name;
  type_ = type;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  AppendEscaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += TypeName(type);
  out_ += '\n';
  return *this;
}

bool PrometheusText::CheckLabels(std::span<const MetricLabel> labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!IsLabelName(labels[i].name)) {
      Fail("'" + std::string(labels[i].name) + "' is not a label name (in " + family_ + ")");
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].name == labels[i].name) {
        Fail("label '" + std::string(labels[i].name) + "' given twice (in " + family_ + ")");
        return false;
      }
    }
  }
  return true;
}

void PrometheusText::WriteSample(std::string_view suffix, std::span<const MetricLabel> labels,
                                 const MetricLabel* extra, double value) {
  out_ += family_;
  out_ += suffix;
  if (!labels.empty() || extra != nullptr) {
    out_ += '{';
    bool first = true;
    auto write = [&](const MetricLabel& l) {
      if (!first) out_ += ',';
      first = false;
      out_ += l.name;
      out_ += "=\"";
      AppendEscaped(out_, l.value, true);
      out_ += '"';
    };
    for (const MetricLabel& l : labels) write(l);
    if (extra != nullptr) write(*extra);
    out_ += '}';
  }
  out_ += ' ';
  out_ += FormatMetricValue(value);
  out_ += '\n';
}

PrometheusText& PrometheusText::Sample(std::initializer_list<MetricLabel> labels, double value) {
  return Sample(std::span<const MetricLabel>(labels.begin(), labels.size()), value);
}

PrometheusText& PrometheusText::Sample(std::span<const MetricLabel> labels, double value) {
  if (family_.empty() || type_ == MetricType::kHistogram) {
    Fail("a sample outside a counter or gauge family (after '" + family_ + "')");
    return *this;
  }
  if (!CheckLabels(labels)) return *this;
  WriteSample("", labels, nullptr, value);
  return *this;
}

PrometheusText& PrometheusText::Histogram(std::span<const MetricLabel> labels,
                                          std::span<const double> upper_bounds,
                                          std::span<const uint64_t> counts, double sum) {
  if (family_.empty() || type_ != MetricType::kHistogram) {
    Fail("a histogram outside a histogram family (after '" + family_ + "')");
    return *this;
  }
  if (counts.size() != upper_bounds.size() + 1) {
    Fail("histogram " + family_ + ": counts must have one entry more than the bounds");
    return *this;
  }
  for (size_t i = 1; i < upper_bounds.size(); ++i) {
    if (!(upper_bounds[i - 1] < upper_bounds[i])) {
      Fail("histogram " + family_ + ": bounds must ascend");
      return *this;
    }
  }
  for (const MetricLabel& l : labels) {
    if (l.name == "le") {
      Fail("histogram " + family_ + ": 'le' is the bucket label");
      return *this;
    }
  }
  if (!CheckLabels(labels)) return *this;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= upper_bounds.size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < upper_bounds.size() ? FormatMetricValue(upper_bounds[i]) : "+Inf";
    const MetricLabel bound{"le", le};
    WriteSample("_bucket", labels, &bound, static_cast<double>(cumulative));
  }
  WriteSample("_sum", labels, nullptr, sum);
  WriteSample("_count", labels, nullptr, static_cast<double>(cumulative));
  return *this;
}

}  // namespace nlb
