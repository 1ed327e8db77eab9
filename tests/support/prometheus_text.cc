#include "tests/support/prometheus_text.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tollgate::testing {
namespace {

bool IsNameStart(char c, bool colon_allowed) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
}

bool IsName(std::string_view name, bool colon_allowed) {
  if (name.empty() || !IsNameStart(name[0], colon_allowed)) return false;
  for (char c : name) {
    if (!IsNameStart(c, colon_allowed) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsMetricName(std::string_view name) { return IsName(name, /*colon_allowed=*/true); }
bool IsLabelName(std::string_view name) { return IsName(name, /*colon_allowed=*/false); }

std::optional<double> ParseValue(std::string_view text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  // from_chars also takes "inf" and "nan", which the format spells otherwise.
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

// `{l="v",...}` at the start of `text`; returns the length consumed, or
// nullopt when malformed.
std::optional<size_t> ParseLabels(std::string_view text, PrometheusText::Labels* labels) {
  size_t i = 1;  // past '{'
  for (;;) {
    if (i < text.size() && text[i] == '}') return i + 1;
    const size_t equals = text.find('=', i);
    if (equals == std::string_view::npos) return std::nullopt;
    const std::string name(text.substr(i, equals - i));
    if (!IsLabelName(name) || equals + 1 >= text.size() || text[equals + 1] != '"') {
      return std::nullopt;
    }
    std::string value;
    size_t j = equals + 2;
    for (;; ++j) {
      if (j >= text.size()) return std::nullopt;
      const char c = text[j];
      if (c == '"') break;
      if (c == '\\') {
        if (++j >= text.size()) return std::nullopt;
        switch (text[j]) {
          case '\\': value.push_back('\\'); break;
          case '"': value.push_back('"'); break;
          case 'n': value.push_back('\n'); break;
          default: return std::nullopt;
        }
        continue;
      }
      value.push_back(c);
    }
    if (!labels->emplace(name, std::move(value)).second) return std::nullopt;  // repeated label
    i = j + 1;
    if (i < text.size() && text[i] == ',') {
      ++i;
    } else if (i >= text.size() || text[i] != '}') {
      return std::nullopt;
    }
  }
}

// The family a sample belongs to: histogram and summary samples carry a
// suffix on the family's name.
std::string_view FamilyOf(std::string_view sample_name,
                          const std::map<std::string, std::string, std::less<>>& types) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (sample_name.size() > suffix.size() &&
        sample_name.substr(sample_name.size() - suffix.size()) == suffix) {
      std::string_view family = sample_name.substr(0, sample_name.size() - suffix.size());
      auto it = types.find(family);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) {
        return family;
      }
    }
  }
  return sample_name;
}

// `text` cut at every `separator` (empty pieces kept), into at most
// `max_pieces` pieces: the last one keeps the rest.
std::vector<std::string_view> Split(std::string_view text, char separator,
                                    size_t max_pieces = std::numeric_limits<size_t>::max()) {
  std::vector<std::string_view> pieces;
  for (;;) {
    const size_t at = pieces.size() + 1 < max_pieces ? text.find(separator) : std::string_view::npos;
    pieces.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return pieces;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

absl::StatusOr<PrometheusText> PrometheusText::Parse(std::string_view text) {
  PrometheusText parsed;
  std::set<std::pair<std::string, Labels>> seen;
  std::set<std::string, std::less<>> families_with_samples;
  int line_number = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_number;
    const auto refuse = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", std::string(why), ": '", std::string(line), "'"));
    };
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::vector<std::string_view> words = Split(line, ' ', 4);
      if (words.size() >= 2 && (words[1] == "HELP" || words[1] == "TYPE")) {
        if (words.size() < 3 || !IsMetricName(words[2])) return refuse("bad metric name");
        if (words[1] == "TYPE") {
          static const std::set<std::string_view> kTypes = {"counter", "gauge", "histogram",
                                                            "summary", "untyped"};
          if (words.size() != 4 || kTypes.count(words[3]) == 0) return refuse("bad TYPE");
          if (families_with_samples.count(words[2]) > 0) return refuse("TYPE after samples");
          if (!parsed.types_.emplace(std::string(words[2]), std::string(words[3])).second) {
            return refuse("second TYPE");
          }
        }
      }
      continue;
    }
    PrometheusSample sample;
    size_t name_end = 0;
    while (name_end < line.size() && line[name_end] != '{' && line[name_end] != ' ') ++name_end;
    sample.name = std::string(line.substr(0, name_end));
    if (!IsMetricName(sample.name)) return refuse("bad metric name");
    std::string_view rest = line.substr(name_end);
    if (!rest.empty() && rest[0] == '{') {
      std::optional<size_t> consumed = ParseLabels(rest, &sample.labels);
      if (!consumed.has_value()) return refuse("bad labels");
      rest.remove_prefix(*consumed);
    }
    if (rest.empty() || rest[0] != ' ') return refuse("no value");
    rest.remove_prefix(1);
    std::vector<std::string_view> fields = Split(rest, ' ');
    if (fields.empty() || fields.size() > 2) return refuse("bad value");
    std::optional<double> value = ParseValue(fields[0]);
    if (!value.has_value()) return refuse("bad value");
    if (fields.size() == 2) {
      int64_t timestamp = 0;
      const auto [end, error] =
          std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), timestamp);
      if (error != std::errc() || end != fields[1].data() + fields[1].size()) {
        return refuse("bad timestamp");
      }
    }
    sample.value = *value;
    if (!seen.emplace(sample.name, sample.labels).second) return refuse("repeated sample");
    families_with_samples.emplace(FamilyOf(sample.name, parsed.types_));
    parsed.samples_.push_back(std::move(sample));
  }
  return parsed;
}

std::optional<double> PrometheusText::Value(std::string_view name, const Labels& labels) const {
  for (const PrometheusSample& sample : samples_) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return std::nullopt;
}

std::string PrometheusText::Type(std::string_view family) const {
  auto it = types_.find(family);
  return it == types_.end() ? "" : it->second;
}

std::vector<PrometheusSample> PrometheusText::Samples(std::string_view name) const {
  std::vector<PrometheusSample> found;
  for (const PrometheusSample& sample : samples_) {
    if (sample.name == name) found.push_back(sample);
  }
  return found;
}

absl::StatusOr<PrometheusText> ScrapeMetrics(int http_port) {
  httplib::Client client("127.0.0.1", http_port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  auto response = client.Get("/metrics");
  if (!response) {
    return absl::UnavailableError(
        absl::StrCat("GET /metrics on port ", http_port, ": ", httplib::to_string(response.error())));
  }
  if (response->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET /metrics on port ", http_port, ": status ", response->status));
  }
  return PrometheusText::Parse(response->body);
}

PrometheusText ScrapeMetricsOrFail(int http_port) {
  absl::StatusOr<PrometheusText> text = ScrapeMetrics(http_port);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *std::move(text) : PrometheusText();
}

double ServedValue(const PrometheusText& text, std::string_view name,
                   const PrometheusText::Labels& labels) {
  std::optional<double> value = text.Value(name, labels);
  EXPECT_TRUE(value.has_value()) << name << " is not served";
  return value.value_or(0);
}

double Delta(const PrometheusText& before, const PrometheusText& after, std::string_view name,
             const PrometheusText::Labels& labels) {
  return ServedValue(after, name, labels) - ServedValue(before, name, labels);
}

std::map<std::string, double> DeltasByLabel(const PrometheusText& before,
                                            const PrometheusText& after, std::string_view name,
                                            const std::string& label) {
  std::map<std::string, double> deltas;
  for (const PrometheusSample& sample : after.Samples(name)) {
    const double delta = sample.value - ServedValue(before, sample.name, sample.labels);
    if (delta != 0) deltas[sample.labels.at(label)] = delta;
  }
  return deltas;
}

}  // namespace tollgate::testing
