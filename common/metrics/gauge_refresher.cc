#include "common/metrics/gauge_refresher.h"

namespace tollgate {

void GaugeRefresher::Add(prometheus::Gauge& gauge, std::function<double()> value) {
  std::lock_guard<std::mutex> lock(mutex_);
  gauges_.emplace_back(&gauge, std::move(value));
}

std::vector<prometheus::MetricFamily> GaugeRefresher::Collect() const {
  std::vector<std::pair<prometheus::Gauge*, std::function<double()>>> gauges;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    gauges = gauges_;
  }
  for (const auto& [gauge, value] : gauges) gauge->Set(value());
  return {};
}

}  // namespace tollgate
