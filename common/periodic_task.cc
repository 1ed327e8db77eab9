#include "common/periodic_task.h"

#include <utility>

namespace tollgate {

PeriodicTask::PeriodicTask(std::chrono::milliseconds first_delay,
                           std::chrono::milliseconds interval, Round round)
    : interval_(interval),
      round_(std::move(round)),
      keep_going_([this] { return !stopping_.load(); }) {
  thread_ = std::thread([this, first_delay] { Run(first_delay); });
}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  changed_.notify_all();
}

void PeriodicTask::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  changed_.notify_all();
  std::lock_guard<std::mutex> join_lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Run(std::chrono::milliseconds first_delay) {
  auto next = std::chrono::steady_clock::now() + first_delay;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_until(lock, next, [this] { return stopping_.load() || woken_; });
      if (stopping_.load()) return;
      woken_ = false;
    }
    round_(keep_going_);
    next = std::chrono::steady_clock::now() + interval_;
  }
}

}  // namespace tollgate
