#include "common/periodic_task.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace tollgate {
namespace {

using namespace std::chrono_literals;

// Counts rounds; tests wait (bounded) for a count.
class RoundCounter {
 public:
  void Count() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++rounds_;
    changed_.notify_all();
  }
  bool WaitFor(int rounds, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return rounds_ >= rounds; });
  }
  int rounds() {
    std::lock_guard<std::mutex> lock(mutex_);
    return rounds_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int rounds_ = 0;
};

TEST(PeriodicTaskTest, RunsAfterTheFirstDelayAndThenEveryInterval) {
  RoundCounter counter;
  const auto start = std::chrono::steady_clock::now();
  PeriodicTask task(50ms, 10ms, [&](const std::function<bool()>&) { counter.Count(); });
  ASSERT_TRUE(counter.WaitFor(1, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_TRUE(counter.WaitFor(4, 5s));
}

TEST(PeriodicTaskTest, NothingRunsBeforeTheFirstDelay) {
  RoundCounter counter;
  PeriodicTask task(1h, 1h, [&](const std::function<bool()>&) { counter.Count(); });
  EXPECT_FALSE(counter.WaitFor(1, 100ms));
  task.Stop();
  EXPECT_EQ(counter.rounds(), 0);
}

TEST(PeriodicTaskTest, WakeRunsARoundAtOnce) {
  RoundCounter counter;
  PeriodicTask task(1h, 1h, [&](const std::function<bool()>&) { counter.Count(); });
  task.Wake();
  ASSERT_TRUE(counter.WaitFor(1, 5s));
  // The interval is measured again from the end of that round.
  EXPECT_FALSE(counter.WaitFor(2, 100ms));
  task.Wake();
  EXPECT_TRUE(counter.WaitFor(2, 5s));
}

TEST(PeriodicTaskTest, WakeDuringARoundRunsAnotherRightAfterIt) {
  RoundCounter counter;
  std::atomic<bool> release{false};
  std::atomic<bool> in_round{false};
  PeriodicTask task(0ms, 1h, [&](const std::function<bool()>& keep_going) {
    in_round = true;
    while (!release && keep_going()) std::this_thread::sleep_for(1ms);
    counter.Count();
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!in_round && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(in_round);
  task.Wake();
  task.Wake();  // merges with the first
  release = true;
  EXPECT_TRUE(counter.WaitFor(2, 5s));
  EXPECT_FALSE(counter.WaitFor(3, 100ms));
}

TEST(PeriodicTaskTest, StopEndsALongRoundThroughKeepGoing) {
  std::atomic<bool> in_round{false};
  std::atomic<bool> saw_stop{false};
  RoundCounter counter;
  auto task = std::make_unique<PeriodicTask>(0ms, 0ms, [&](const std::function<bool()>& keep_going) {
    in_round = true;
    while (keep_going()) std::this_thread::sleep_for(1ms);
    saw_stop = true;
    counter.Count();
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!in_round && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(in_round);
  const auto start = std::chrono::steady_clock::now();
  task->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(saw_stop);
  EXPECT_EQ(counter.rounds(), 1);  // no round after Stop
  task->Stop();                    // idempotent
  task.reset();                    // and the destructor after it
  EXPECT_EQ(counter.rounds(), 1);
}

TEST(PeriodicTaskTest, StopWakesAWaitingThreadAndDestructorStops) {
  RoundCounter counter;
  const auto start = std::chrono::steady_clock::now();
  {
    PeriodicTask task(1h, 1h, [&](const std::function<bool()>&) { counter.Count(); });
  }  // the destructor stops without waiting for the hour
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(counter.rounds(), 0);
}

TEST(PeriodicTaskTest, StopFromSeveralThreadsAtOnce) {
  RoundCounter counter;
  PeriodicTask task(0ms, 1ms, [&](const std::function<bool()>&) { counter.Count(); });
  ASSERT_TRUE(counter.WaitFor(1, 5s));
  std::thread a([&] { task.Stop(); });
  std::thread b([&] { task.Stop(); });
  a.join();
  b.join();
  const int rounds = counter.rounds();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(counter.rounds(), rounds);
}

}  // namespace
}  // namespace tollgate
