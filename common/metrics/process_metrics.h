#pragma once

#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace tollgate {

// The standard process metrics of the Prometheus client libraries, computed
// from procfs each time they are collected (so on every scrape):
//
//   process_resident_memory_bytes  gauge    resident pages (statm) * page size
//   process_start_time_seconds     gauge    boot time (stat "btime") + the
//                                           process's starttime / clock ticks;
//                                           read once, at construction
//   process_cpu_seconds_total      counter  (utime + stime) / clock ticks
//   process_open_fds               gauge    entries of self/fd
//
// A value whose file cannot be read or parsed is left out of that scrape
// (the start time falls back to the construction time). `proc_dir` is
// "/proc"; tests point it at a fake tree. Thread-safe (Collect only reads
// files). Hand it to HttpEndpoint::ServeMetrics next to the registry.
class ProcessMetrics final : public prometheus::Collectable {
 public:
  explicit ProcessMetrics(std::string proc_dir = "/proc");

  std::vector<prometheus::MetricFamily> Collect() const override;

  double start_time_seconds() const { return start_time_seconds_; }

 private:
  const std::string proc_dir_;
  double start_time_seconds_ = 0;
};

}  // namespace tollgate
