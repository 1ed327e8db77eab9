#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/gauge.h"
#include "prometheus/metric_family.h"

namespace tollgate {

// Callback-style gauges for a registry: each Collect() sets every added
// gauge to its callback's value and returns no families of its own. List it
// before the registry holding the gauges in HttpEndpoint::ServeMetrics (which
// collects in order), so a scrape shows values read at that scrape:
//
//   refresher->Add(metrics.db_pool_in_use, [&pool] { return pool.InUse(); });
//   endpoint.ServeMetrics({refresher, registry});
//
// The gauges and whatever the callbacks capture must outlive this object.
// Callbacks run on the scraping thread, possibly concurrently with each
// other, and must be thread-safe and quick. Add() is thread-safe.
class GaugeRefresher final : public prometheus::Collectable {
 public:
  void Add(prometheus::Gauge& gauge, std::function<double()> value);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<prometheus::Gauge*, std::function<double()>>> gauges_;  // guarded
};

}  // namespace tollgate
