#include "auth_service/password/hashing_pool.h"

#include <algorithm>
#include <utility>

#include "prometheus/counter.h"

namespace tollgate::auth {
namespace {

size_t ThreadCount(const HashingPool::Options& options) {
  if (options.threads > 0) return options.threads;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

}  // namespace

HashingPool::HashingPool(Options options)
    : queue_capacity_(options.queue_capacity > 0 ? options.queue_capacity
                                                 : 2 * ThreadCount(options)),
      shed_total_(options.shed_total) {
  const size_t thread_count = ThreadCount(options);
  workers_.reserve(thread_count);
  for (size_t i = 0; i < thread_count; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

HashingPool::~HashingPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

absl::Status HashingPool::Submit(std::function<void()> task) {
  if (!task) return absl::InvalidArgumentError("empty task");
  {
    std::lock_guard lock(mutex_);
    // Refuse rather than wait: the caller is a gRPC thread, and every queued
    // hash will hold its memory once it runs. Counting running tasks too (not
    // just the queue) keeps a burst from being shed in the moment before idle
    // workers pick it up.
    if (queue_.size() + running_ >= workers_.size() + queue_capacity_) {
      ++rejected_total_;
      if (shed_total_ != nullptr) shed_total_->Increment();
      return absl::ResourceExhaustedError(
          "too many password operations in progress, retry later");
    }
    queue_.push_back(std::move(task));
  }
  work_ready_.notify_one();
  return absl::OkStatus();
}

size_t HashingPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t HashingPool::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

uint64_t HashingPool::rejected_total() const {
  std::lock_guard lock(mutex_);
  return rejected_total_;
}

void HashingPool::WorkerLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Drain before stopping: the queue is empty here only when stopping_.
    if (queue_.empty()) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    task();
    // Destroy the task (and what it captured) outside the lock.
    task = nullptr;
    lock.lock();
    --running_;
  }
}

}  // namespace tollgate::auth
