#include "client/session/in_memory_token_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tollgate::client {
namespace {

TEST(InMemoryTokenStoreTest, HoldsNothingUntilSaved) {
  InMemoryTokenStore store;
  EXPECT_EQ(store.Load().status().code(), absl::StatusCode::kNotFound);
  SavedTokens tokens;
  tokens.access_token = "a";
  tokens.refresh_token = "tgr_r";
  ASSERT_TRUE(store.Save(tokens).ok());
  EXPECT_EQ(store.Load()->refresh_token, "tgr_r");
  ASSERT_TRUE(store.Clear().ok());
  EXPECT_EQ(store.Load().status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store.Clear().ok());
}

TEST(InMemoryTokenStoreTest, StartsWithTheGivenPair) {
  InMemoryTokenStore store(SavedTokens::FromRefreshToken("tgr_r"));
  absl::StatusOr<SavedTokens> loaded = store.Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->refresh_token, "tgr_r");
  EXPECT_EQ(loaded->access_token, "");
  EXPECT_EQ(loaded->access_expires_at_unix_seconds, 0);
}

TEST(InMemoryTokenStoreTest, TheRefreshLockIsExclusiveUntilReleased) {
  InMemoryTokenStore store;
  std::atomic<bool> second_has_it{false};
  std::thread second;
  {
    absl::StatusOr<std::unique_ptr<TokenStore::Lock>> first = store.LockForRefresh();
    ASSERT_TRUE(first.ok());
    second = std::thread([&] {
      absl::StatusOr<std::unique_ptr<TokenStore::Lock>> lock = store.LockForRefresh();
      second_has_it = lock.ok();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(second_has_it.load());
  }
  second.join();
  EXPECT_TRUE(second_has_it.load());
}

}  // namespace
}  // namespace tollgate::client
