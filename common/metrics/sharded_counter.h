#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tollgate {

// The shard of the calling thread among `shards`: threads take the shards
// in turn, so up to `shards` threads never write the same cache line.
size_t ShardOfThisThread(size_t shards);

// A count that every call's thread adds to without a write that another
// core also makes: each thread adds to its own cache line (a prometheus
// counter is an atomic double updated by compare-and-swap, one line for all
// threads; on two cores that line moving on every call cost the server
// measurable calls per second). Total() sums the shards; a scrape mirrors
// it into a prometheus counter (CounterMirror). Thread-safe.
class ShardedCounter final {
 public:
  void Increment() {
    shards_[ShardOfThisThread(kShards)].count.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t Total() const;

 private:
  static constexpr size_t kShards = 8;
  struct alignas(64) Shard {
    std::atomic<uint64_t> count{0};
  };
  std::array<Shard, kShards> shards_;
};

}  // namespace tollgate
