#include "common/metrics/counter_mirror.h"

namespace tollgate {

void CounterMirror::Add(prometheus::Counter& counter, std::function<uint64_t()> total) {
  std::lock_guard<std::mutex> lock(mutex_);
  counters_.push_back(Mirrored{&counter, std::move(total), 0});
}

std::vector<prometheus::MetricFamily> CounterMirror::Collect() const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Mirrored& mirrored : counters_) {
    const uint64_t total = mirrored.total();
    if (total <= mirrored.seen) continue;
    mirrored.counter->Increment(static_cast<double>(total - mirrored.seen));
    mirrored.seen = total;
  }
  return {};
}

}  // namespace tollgate
