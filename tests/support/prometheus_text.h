#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tollgate::testing {

// One sample line of the Prometheus text exposition: name, labels, value.
struct PrometheusSample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

// A /metrics body parsed the way a Prometheus server reads it (text format
// 0.0.4), so tests compare values instead of grepping text:
//   - "# HELP name text" and "# TYPE name type" lines (type one of counter,
//     gauge, histogram, summary, untyped; at most one TYPE per family, before
//     its samples); other '#' lines and blank lines are skipped;
//   - samples "name value" or "name{l="v",...} value [timestamp]", with
//     metric and label names checked, label values unescaped (\\ \" \n),
//     values as decimal floats or +Inf, -Inf, NaN.
// Parse refuses anything else, and a sample that repeats a name and label
// set, with INVALID_ARGUMENT naming the line.
class PrometheusText {
 public:
  using Labels = std::map<std::string, std::string>;

  [[nodiscard]] static absl::StatusOr<PrometheusText> Parse(std::string_view text);

  // The value of the sample with exactly this name and label set; nullopt
  // when there is none.
  std::optional<double> Value(std::string_view name, const Labels& labels = {}) const;
  // The family's declared TYPE ("counter", "gauge", ...); "" when undeclared.
  std::string Type(std::string_view family) const;
  // Every sample of this name, whatever its labels, in the order served.
  std::vector<PrometheusSample> Samples(std::string_view name) const;

  const std::vector<PrometheusSample>& samples() const { return samples_; }

 private:
  std::vector<PrometheusSample> samples_;
  std::map<std::string, std::string, std::less<>> types_;
};

// GET http://127.0.0.1:<port>/metrics, parsed. UNAVAILABLE when the request
// fails or the status is not 200; Parse's error for a bad body.
[[nodiscard]] absl::StatusOr<PrometheusText> ScrapeMetrics(int http_port);

// For tests that check how a server's metrics change between two scrapes.
// They report a problem as a gtest failure of the calling test and go on
// with an empty text or 0, so one missing series fails the test without
// hiding the other checks.

// ScrapeMetrics(http_port); an empty text and a test failure when it fails.
PrometheusText ScrapeMetricsOrFail(int http_port);

// The value of a sample that must be served; 0 and a test failure when
// there is no sample with this name and label set.
double ServedValue(const PrometheusText& text, std::string_view name,
                   const PrometheusText::Labels& labels = {});

// ServedValue(after, ...) - ServedValue(before, ...): how much a counter
// moved between the scrapes.
double Delta(const PrometheusText& before, const PrometheusText& after, std::string_view name,
             const PrometheusText::Labels& labels = {});

// The Delta of every sample of `name` that `after` serves, keyed by its
// value of `label`; samples that did not move are left out. E.g. the
// denials by reason: DeltasByLabel(before, after,
// "tollgate_auth_denied_total", "reason") == {{"missing_role", 1}}.
std::map<std::string, double> DeltasByLabel(const PrometheusText& before,
                                            const PrometheusText& after, std::string_view name,
                                            const std::string& label);

}  // namespace tollgate::testing
