// PrometheusText: builds one scrape in the Prometheus text exposition format (version 0.0.4),
// for the agent's GET /metrics (docs/operations.md lists what the agent exposes).
//
// A family is opened with its HELP and TYPE lines, then its samples follow; labels are written in
// the order the caller gives them, values escaped as the format requires (backslash, double quote,
// line feed). Names are checked against the format's grammar: a bad name, a family opened twice,
// or a sample outside a family is a programming error that the writer records in status() and
// skips, so a broken scrape is caught by the unit tests instead of by Prometheus. Pure and not
// thread-safe (a local value of the thread that renders the scrape).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nlb {

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram };

class PrometheusText {
 public:
  // Writes "# HELP name help" and "# TYPE name type". A counter's name must end in "_total".
  PrometheusText& Family(std::string_view name, MetricType type, std::string_view help);
  // One sample of the open counter or gauge family.
  PrometheusText& Sample(std::initializer_list<MetricLabel> labels, double value);
  PrometheusText& Sample(std::span<const MetricLabel> labels, double value);
  // One histogram of the open histogram family: upper_bounds ascending (without +Inf),
  // counts[i] the observations in (upper_bounds[i-1], upper_bounds[i]], and counts has one more
  // entry than upper_bounds: the observations above the last bound. Written cumulative, as the
  // format wants, with _sum and _count.
  PrometheusText& Histogram(std::span<const MetricLabel> labels,
                            std::span<const double> upper_bounds, std::span<const uint64_t> counts,
                            double sum);

  const std::string& str() const { return out_; }
  // The first programming error met (bad name, duplicate family, sample outside its family).
  const Status& status() const { return status_; }

 private:
  bool CheckLabels(std::span<const MetricLabel> labels);
  void WriteSample(std::string_view suffix, std::span<const MetricLabel> labels,
                   const MetricLabel* extra, double value);
  void Fail(std::string message);

  std::string out_;
  std::string family_;  // the open family, empty when none
  MetricType type_ = MetricType::kGauge;
  std::set<std::string, std::less<>> families_;
  Status status_ = Status::Ok();
};

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*, not "__..."
bool IsMetricName(std::string_view name);
bool IsLabelName(std::string_view name);
// A sample value as the format writes it: integers without exponent, "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);

}  // namespace nlb
