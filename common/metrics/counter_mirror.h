#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/metric_family.h"

namespace tollgate {

// Counters whose count is kept elsewhere (a process-wide atomic a library
// already maintains, such as UndecodableRequestsTotal): each Collect()
// advances every added counter to its callback's total and returns no
// families of its own. List it before the registry holding the counters in
// HttpEndpoint::ServeMetrics, as GaugeRefresher is:
//
//   mirror->Add(metrics.undecodable_requests_total, [] { return UndecodableRequestsTotal(); });
//   endpoint.ServeMetrics({refresher, mirror, registry});
//
// A total must never go down; one that does is ignored until it passes the
// highest value seen. Collect() holds a lock, so concurrent scrapes never
// add the same difference twice. The counters and whatever the callbacks
// capture must outlive this object; callbacks must be thread-safe and quick.
class CounterMirror final : public prometheus::Collectable {
 public:
  void Add(prometheus::Counter& counter, std::function<uint64_t()> total);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Mirrored {
    prometheus::Counter* counter;
    std::function<uint64_t()> total;
    uint64_t seen;  // the total the counter shows
  };
  mutable std::mutex mutex_;
  mutable std::vector<Mirrored> counters_;  // guarded by mutex_
};

}  // namespace tollgate
