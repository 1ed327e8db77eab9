#include "common/metrics/sharded_counter.h"

namespace tollgate {

size_t ShardOfThisThread(size_t shards) {
  static std::atomic<size_t> next_thread{0};
  thread_local const size_t thread_number = next_thread.fetch_add(1, std::memory_order_relaxed);
  return thread_number % shards;
}

uint64_t ShardedCounter::Total() const {
  uint64_t total = 0;
  for (const Shard& shard : shards_) total += shard.count.load(std::memory_order_relaxed);
  return total;
}

}  // namespace tollgate
