#include "common/metrics/process_metrics.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace tollgate {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The fields of /proc/<pid>/stat after "pid (comm)", so that index 0 is
// field 3 (state) of proc(5); comm may hold spaces and parentheses, hence
// the last ')'.
std::optional<std::vector<std::string>> StatFields(const std::string& proc_dir) {
  const std::optional<std::string> stat = ReadFile(proc_dir + "/self/stat");
  if (!stat) return std::nullopt;
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  return absl::StrSplit(absl::string_view(*stat).substr(close + 1), ' ', absl::SkipWhitespace());
}

// Field n of proc(5)'s numbering, as a number.
std::optional<double> StatField(const std::vector<std::string>& fields, size_t n) {
  double value = 0;
  if (n < 3 || n - 3 >= fields.size() || !absl::SimpleAtod(fields[n - 3], &value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> StartTimeSeconds(const std::string& proc_dir) {
  const std::optional<std::vector<std::string>> fields = StatFields(proc_dir);
  const std::optional<std::string> system_stat = ReadFile(proc_dir + "/stat");
  if (!fields || !system_stat) return std::nullopt;
  const std::optional<double> start_ticks = StatField(*fields, 22);
  if (!start_ticks) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*system_stat, '\n')) {
    double boot_time = 0;
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtod(line, &boot_time)) {
      return boot_time + *start_ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return std::nullopt;
}

prometheus::MetricFamily Single(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

ProcessMetrics::ProcessMetrics(std::string proc_dir) : proc_dir_(std::move(proc_dir)) {
  const std::optional<double> start = StartTimeSeconds(proc_dir_);
  start_time_seconds_ =
      start ? *start
            : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  if (const std::optional<std::string> statm = ReadFile(proc_dir_ + "/self/statm")) {
    const std::vector<absl::string_view> fields =
        absl::StrSplit(*statm, absl::ByAnyChar(" \n"), absl::SkipEmpty());
    double resident_pages = 0;
    if (fields.size() >= 2 && absl::SimpleAtod(fields[1], &resident_pages)) {
      families.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                                prometheus::MetricType::Gauge,
                                resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE))));
    }
  }
  families.push_back(Single("process_start_time_seconds",
                            "Start time of the process since unix epoch in seconds.",
                            prometheus::MetricType::Gauge, start_time_seconds_));
  if (const std::optional<std::vector<std::string>> fields = StatFields(proc_dir_)) {
    const std::optional<double> user_ticks = StatField(*fields, 14);
    const std::optional<double> system_ticks = StatField(*fields, 15);
    if (user_ticks && system_ticks) {
      families.push_back(Single("process_cpu_seconds_total",
                                "Total user and system CPU time spent in seconds.",
                                prometheus::MetricType::Counter,
                                (*user_ticks + *system_ticks) /
                                    static_cast<double>(sysconf(_SC_CLK_TCK))));
    }
  }
  std::error_code error;
  std::filesystem::directory_iterator fds(proc_dir_ + "/self/fd", error);
  if (!error) {
    double open = 0;
    for (auto it = fds; it != std::filesystem::directory_iterator(); it.increment(error)) {
      if (error) break;
      ++open;
    }
    if (!error) {
      families.push_back(Single("process_open_fds", "Number of open file descriptors.",
                                prometheus::MetricType::Gauge, open));
    }
  }
  return families;
}

}  // namespace tollgate
