#include "client/session/published_access.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace tollgate::client {
namespace {

TEST(PublishedAccessTest, NothingIsUsableBeforeAPublish) {
  PublishedAccess published;
  std::string authorization;
  EXPECT_FALSE(published.UsableAt(0));
  EXPECT_FALSE(published.CopyIfUsable(0, &authorization));
}

TEST(PublishedAccessTest, APublishedValueIsUsableUntilItsDeadline) {
  PublishedAccess published;
  published.Publish("Bearer a", 1000);
  std::string authorization;
  EXPECT_TRUE(published.UsableAt(999));
  ASSERT_TRUE(published.CopyIfUsable(999, &authorization));
  EXPECT_EQ(authorization, "Bearer a");
  EXPECT_FALSE(published.UsableAt(1000));
  EXPECT_FALSE(published.CopyIfUsable(1000, &authorization));
}

TEST(PublishedAccessTest, EveryThreadSeesTheNewValueAfterAPublish) {
  PublishedAccess published;
  published.Publish("Bearer a", 1000);
  std::string here;
  ASSERT_TRUE(published.CopyIfUsable(0, &here));  // this thread's copy: a
  published.Publish("Bearer b", 2000);
  ASSERT_TRUE(published.CopyIfUsable(1500, &here));
  EXPECT_EQ(here, "Bearer b");
  std::string there;
  std::thread([&] { EXPECT_TRUE(published.CopyIfUsable(1500, &there)); }).join();
  EXPECT_EQ(there, "Bearer b");
}

TEST(PublishedAccessTest, AWithdrawnValueIsNotUsable) {
  PublishedAccess published;
  published.Publish("Bearer a", 1000);
  std::string authorization;
  ASSERT_TRUE(published.CopyIfUsable(0, &authorization));
  published.Withdraw();
  EXPECT_FALSE(published.UsableAt(0));
  EXPECT_FALSE(published.CopyIfUsable(0, &authorization));
}

// Per-thread copies belong to one instance: another one, even at the same
// address, is read afresh.
TEST(PublishedAccessTest, CopiesAreNotSharedBetweenInstances) {
  std::string authorization;
  {
    PublishedAccess first;
    first.Publish("Bearer first", 1000);
    ASSERT_TRUE(first.CopyIfUsable(0, &authorization));
  }
  PublishedAccess second;
  second.Publish("Bearer second", 1000);
  ASSERT_TRUE(second.CopyIfUsable(0, &authorization));
  EXPECT_EQ(authorization, "Bearer second");
}

}  // namespace
}  // namespace tollgate::client
