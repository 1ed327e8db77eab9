#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace tollgate {

// Runs a round of work on a thread of its own: the first round
// `first_delay` after construction, each further one `interval` after the
// previous round ended (so rounds never overlap or pile up), until Stop().
//
// - Wake() starts the next round at once: immediately if the thread is
//   waiting, or right after the current round if one is running (so work
//   queued during a round is not left for a whole interval). Wakes that
//   arrive while a round has not yet started merge into one.
// - A round gets `keep_going`: true until Stop() is called. A long round
//   checks it between batches and returns early.
// - Stop() asks the thread to stop, wakes it if it waits, and joins it
//   (waiting for a running round to return). Idempotent; safe from several
//   threads; must not be called from inside a round. The destructor stops.
// - Time is the steady clock: the schedule is not a Clock (it decides when
//   to look, not what is due).
class PeriodicTask final {
 public:
  using Round = std::function<void(const std::function<bool()>& keep_going)>;

  PeriodicTask(std::chrono::milliseconds first_delay, std::chrono::milliseconds interval,
               Round round);
  ~PeriodicTask();

  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Wake();
  void Stop();

 private:
  void Run(std::chrono::milliseconds first_delay);

  const std::chrono::milliseconds interval_;
  const Round round_;
  const std::function<bool()> keep_going_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool woken_ = false;           // guarded by mutex_
  std::atomic<bool> stopping_{false};
  std::mutex join_mutex_;        // serializes Stop's join
  std::thread thread_;
};

}  // namespace tollgate
