#include "auth_service/password/hashing_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace tollgate::auth {
namespace {

class HashingPoolTest : public ::testing::Test {};

TEST_F(HashingPoolTest, ShedsExactlyWhenAllWorkersAreBusyAndTheQueueIsFull) {
  constexpr size_t kThreads = 2;
  constexpr size_t kCapacity = 3;
  std::latch workers_busy(kThreads);
  std::latch release(1);
  std::latch all_done(kThreads + kCapacity);
  std::atomic<int> ran{0};
  std::atomic<bool> shed_task_ran{false};
  {
    HashingPool pool({.threads = kThreads, .queue_capacity = kCapacity});
    ASSERT_EQ(pool.threads(), kThreads);
    ASSERT_EQ(pool.queue_capacity(), kCapacity);

    for (size_t i = 0; i < kThreads; ++i) {
      ASSERT_TRUE(pool.Submit([&] {
                        workers_busy.count_down();
                        release.wait();
                        ++ran;
                        all_done.count_down();
                      })
                      .ok());
    }
    workers_busy.wait();
    EXPECT_EQ(pool.running(), kThreads);
    EXPECT_EQ(pool.queued(), 0u);

    for (size_t i = 0; i < kCapacity; ++i) {
      ASSERT_TRUE(pool.Submit([&] {
                        ++ran;
                        all_done.count_down();
                      })
                      .ok())
          << i;
    }
    EXPECT_EQ(pool.queued(), kCapacity);

    const absl::Status shed = pool.Submit([&] { shed_task_ran = true; });
    EXPECT_EQ(shed.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(shed.message(), "too many password operations in progress, retry later");
    EXPECT_EQ(pool.rejected_total(), 1u);
    EXPECT_EQ(pool.queued(), kCapacity);
    EXPECT_EQ(pool.running(), kThreads);

    release.count_down();
    all_done.wait();
    EXPECT_EQ(ran.load(), static_cast<int>(kThreads + kCapacity));

    // Room again once the work is done.
    EXPECT_TRUE(pool.Submit([] {}).ok());
  }
  EXPECT_FALSE(shed_task_ran.load());
  EXPECT_EQ(ran.load(), static_cast<int>(kThreads + kCapacity));
}

TEST_F(HashingPoolTest, CountsEachShedSubmitInTheShedCounter) {
  prometheus::Registry registry;
  prometheus::Counter& shed_total =
      prometheus::BuildCounter().Name("shed_total").Register(registry).Add({});
  std::latch worker_busy(1);
  std::latch release(1);
  {
    HashingPool pool({.threads = 1, .queue_capacity = 1, .shed_total = &shed_total});
    ASSERT_TRUE(pool.Submit([&] {
                      worker_busy.count_down();
                      release.wait();
                    })
                    .ok());
    worker_busy.wait();
    ASSERT_TRUE(pool.Submit([] {}).ok());  // fills the queue
    EXPECT_EQ(shed_total.Value(), 0);
    EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(pool.Submit(nullptr).code(), absl::StatusCode::kInvalidArgument);  // not a shed
    EXPECT_EQ(shed_total.Value(), 2);
    EXPECT_EQ(pool.rejected_total(), 2u);
    release.count_down();
  }
  EXPECT_EQ(shed_total.Value(), 2);
}

TEST_F(HashingPoolTest, AcceptsABurstUpToThreadsPlusCapacityBeforeWorkersWake) {
  // Shedding counts unfinished work, not the momentary queue length, so a
  // burst that fits is accepted even if the workers have not picked up yet.
  std::latch release(1);
  std::atomic<int> ran{0};
  {
    HashingPool pool({.threads = 2, .queue_capacity = 2});
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(pool.Submit([&] {
                        release.wait();
                        ++ran;
                      })
                      .ok())
          << i;
    }
    EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kResourceExhausted);
    release.count_down();
  }
  EXPECT_EQ(ran.load(), 4);
}

TEST_F(HashingPoolTest, DestructorRunsEveryQueuedTaskThenJoins) {
  std::latch release(1);
  std::atomic<int> ran{0};
  {
    HashingPool pool({.threads = 1, .queue_capacity = 10});
    ASSERT_TRUE(pool.Submit([&] {
                      release.wait();
                      ++ran;
                    })
                    .ok());
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(pool.Submit([&] { ++ran; }).ok());
    }
    release.count_down();
  }
  EXPECT_EQ(ran.load(), 11);
}

TEST_F(HashingPoolTest, RunsTasksInSubmissionOrderOnOneThread) {
  std::latch release(1);
  std::vector<int> order;
  {
    HashingPool pool({.threads = 1, .queue_capacity = 5});
    ASSERT_TRUE(pool.Submit([&] { release.wait(); }).ok());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(pool.Submit([&order, i] { order.push_back(i); }).ok());
    }
    release.count_down();
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(HashingPoolTest, DefaultsToOneWorkerPerCoreAndTwiceThatQueue) {
  HashingPool pool({});
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(pool.threads(), cores);
  EXPECT_EQ(pool.queue_capacity(), 2 * cores);
}

TEST_F(HashingPoolTest, RefusesAnEmptyTask) {
  HashingPool pool({.threads = 1, .queue_capacity = 1});
  EXPECT_EQ(pool.Submit(nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pool.rejected_total(), 0u);
}

TEST_F(HashingPoolTest, EveryConcurrentSubmitIsEitherRunOrShed) {
  constexpr int kSubmitters = 4;
  constexpr int kPerSubmitter = 2000;
  std::atomic<int> accepted{0};
  std::atomic<int> shed{0};
  std::atomic<int> ran{0};
  uint64_t rejected_total = 0;
  {
    HashingPool pool({.threads = 2, .queue_capacity = 4});
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&] {
        for (int i = 0; i < kPerSubmitter; ++i) {
          const absl::Status status = pool.Submit([&] { ++ran; });
          if (status.ok()) {
            ++accepted;
          } else {
            EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
            ++shed;
          }
        }
      });
    }
    for (std::thread& submitter : submitters) submitter.join();
    rejected_total = pool.rejected_total();
  }
  EXPECT_EQ(accepted + shed, kSubmitters * kPerSubmitter);
  EXPECT_EQ(ran.load(), accepted.load());
  EXPECT_EQ(rejected_total, static_cast<uint64_t>(shed.load()));
}

}  // namespace
}  // namespace tollgate::auth
