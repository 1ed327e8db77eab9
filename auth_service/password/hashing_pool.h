#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace prometheus {
class Counter;
}  // namespace prometheus

namespace tollgate::auth {

// A fixed set of worker threads with a bounded queue, for CPU- and
// memory-heavy password work (each Argon2id hash holds 19 MiB). Work beyond
// what the pool can hold is refused at once rather than queued without
// bound, so a login flood costs a few microseconds per shed call instead of
// starving other RPCs or growing memory.
//
// Thread-safe. Tasks run in FIFO order; at most `threads` run at a time and
// at most `queue_capacity` wait.
class HashingPool final {
 public:
  struct Options {
    size_t threads = 0;         // 0: std::thread::hardware_concurrency() (at least 1)
    size_t queue_capacity = 0;  // waiting tasks, not counting running ones; 0: 2 * threads
    // Counts every Submit refused because the pool is full; null: nowhere.
    // One counter rather than AuthServiceMetrics: the same pool class runs
    // the database-bound calls too, whose sheds are not password hashes.
    // Must outlive the pool.
    prometheus::Counter* shed_total = nullptr;
  };

  explicit HashingPool(Options options);
  // Stops accepting work, runs every task still queued (a queued task may
  // own an RPC that must be answered), then joins the workers.
  ~HashingPool();

  HashingPool(const HashingPool&) = delete;
  HashingPool& operator=(const HashingPool&) = delete;

  // Queues `task` for a worker and returns at once; never blocks on a full
  // queue. RESOURCE_EXHAUSTED "too many password operations in progress,
  // retry later" when threads + queue_capacity accepted tasks have not
  // finished yet, i.e. every worker is busy and the queue is full (the task
  // is then destroyed without running); INVALID_ARGUMENT for an empty
  // std::function. A task must not throw: an exception escaping a task ends
  // the process, as from any thread.
  [[nodiscard]] absl::Status Submit(std::function<void()> task);

  size_t threads() const { return workers_.size(); }
  size_t queue_capacity() const { return queue_capacity_; }

  // Snapshots for metrics; they may be stale by the time they are read.
  size_t queued() const;           // accepted, waiting for a worker
  size_t running() const;          // being run by a worker now
  uint64_t rejected_total() const;  // Submit calls shed since construction

 private:
  void WorkerLoop();

  const size_t queue_capacity_;
  prometheus::Counter* const shed_total_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  size_t running_ = 0;                       // guarded by mutex_
  uint64_t rejected_total_ = 0;              // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> workers_;         // last: started after the rest exists
};

}  // namespace tollgate::auth
