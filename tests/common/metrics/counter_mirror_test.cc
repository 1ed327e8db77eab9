#include "common/metrics/counter_mirror.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "prometheus/registry.h"

namespace tollgate {
namespace {

class CounterMirrorTest : public ::testing::Test {
 protected:
  prometheus::Registry registry_;
  prometheus::Counter& counter_ =
      prometheus::BuildCounter().Name("mirrored_total").Register(registry_).Add({});
  std::atomic<uint64_t> total_{0};
  CounterMirror mirror_;
};

TEST_F(CounterMirrorTest, FollowsTheTotalAtEachCollect) {
  total_ = 5;
  mirror_.Add(counter_, [this] { return total_.load(); });
  EXPECT_EQ(counter_.Value(), 0);  // only a Collect moves it
  EXPECT_TRUE(mirror_.Collect().empty());
  EXPECT_EQ(counter_.Value(), 5);
  EXPECT_TRUE(mirror_.Collect().empty());
  EXPECT_EQ(counter_.Value(), 5);
  total_ = 12;
  mirror_.Collect();
  EXPECT_EQ(counter_.Value(), 12);
}

TEST_F(CounterMirrorTest, ATotalThatGoesDownIsIgnoredUntilItPassesTheHighestSeen) {
  mirror_.Add(counter_, [this] { return total_.load(); });
  total_ = 10;
  mirror_.Collect();
  total_ = 3;
  mirror_.Collect();
  EXPECT_EQ(counter_.Value(), 10);
  total_ = 11;
  mirror_.Collect();
  EXPECT_EQ(counter_.Value(), 11);
}

TEST_F(CounterMirrorTest, ConcurrentCollectsAddEachDifferenceOnce) {
  mirror_.Add(counter_, [this] { return total_.load(); });
  std::vector<std::thread> scrapers;
  std::atomic<bool> stop{false};
  for (int i = 0; i < 4; ++i) {
    scrapers.emplace_back([&] {
      while (!stop.load()) mirror_.Collect();
    });
  }
  for (int i = 0; i < 1000; ++i) total_.fetch_add(1);
  stop = true;
  for (std::thread& scraper : scrapers) scraper.join();
  mirror_.Collect();
  EXPECT_EQ(counter_.Value(), 1000);
}

}  // namespace
}  // namespace tollgate
