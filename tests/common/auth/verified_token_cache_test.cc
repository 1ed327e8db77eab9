// VerifiedTokenCache: exact-bytes keys, the verifier's expiry rule
// (now >= exp + leeway misses), and a hard bound on its size.
#include "common/auth/verified_token_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/token/access_token_verifier.h"
#include "common/token/jwk_set.h"
#include "tests/common/auth/test_tokens.h"
#include "tests/support/test_keys.h"

namespace tollgate {
namespace {

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kTtl = 900;
constexpr int64_t kExp = kNow + kTtl;
constexpr int64_t kLeeway = 30;

class VerifiedTokenCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Identity has no public constructor: the only way to get one is to
    // verify a real token, as in production.
    const Jwk key = testing::GenerateKey(JwsAlgorithm::kES256);
    testing::TokenMinter minter(key, AccessTokenOptions{"tollgate", "tollgate", kTtl});
    token_ = new std::string(minter.Mint({"user"}, kNow));
    const AccessTokenVerifier verifier(AccessTokenVerifierOptions{"tollgate", "tollgate", kLeeway});
    TokenResult<Identity> verified = verifier.Verify(*token_, *JwkSet::FromKeys({key}), kNow);
    ASSERT_TRUE(verified.ok()) << ToString(verified.error());
    identity_ = new std::shared_ptr<const Identity>(
        std::make_shared<const Identity>(std::move(verified).value()));
  }
  static void TearDownTestSuite() {
    delete token_;
    delete identity_;
  }

  static const std::string& token() { return *token_; }
  static const std::shared_ptr<const Identity>& identity() { return *identity_; }

 private:
  static std::string* token_;
  static std::shared_ptr<const Identity>* identity_;
};

std::string* VerifiedTokenCacheTest::token_ = nullptr;
std::shared_ptr<const Identity>* VerifiedTokenCacheTest::identity_ = nullptr;

TEST_F(VerifiedTokenCacheTest, IdentityUnderTestExpiresAtExp) {
  ASSERT_EQ(identity()->expires_at_unix_seconds(), kExp);
  EXPECT_EQ(identity()->subject(), "user-1");
}

TEST_F(VerifiedTokenCacheTest, HitReturnsTheSameIdentity) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow);
  std::shared_ptr<const Identity> found = cache.Find(token(), kNow + 1);
  EXPECT_EQ(found, identity());  // the same object, not a re-parsed copy
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(VerifiedTokenCacheTest, MissesTokenNeverInserted) {
  VerifiedTokenCache cache(100, kLeeway);
  EXPECT_EQ(cache.Find(token(), kNow), nullptr);
}

TEST_F(VerifiedTokenCacheTest, TokenThatDiffersInOneByteMisses) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow);
  for (size_t i : {size_t{0}, token().size() / 2, token().size() - 1}) {
    std::string changed = token();
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(cache.Find(changed, kNow), nullptr) << "byte " << i;
  }
  EXPECT_EQ(cache.Find(token().substr(0, token().size() - 1), kNow), nullptr);  // a prefix
  EXPECT_EQ(cache.Find(token() + "A", kNow), nullptr);                         // an extension
  EXPECT_EQ(cache.Find(token(), kNow), identity());
}

TEST_F(VerifiedTokenCacheTest, HitsOneSecondBeforeExpPlusLeeway) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow);
  EXPECT_EQ(cache.Find(token(), kExp + kLeeway - 1), identity());
}

TEST_F(VerifiedTokenCacheTest, MissesAtExpPlusLeeway) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow);
  EXPECT_EQ(cache.Find(token(), kExp + kLeeway), nullptr);
  // The expired entry is dropped, not merely hidden.
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(token(), kNow), nullptr);
}

TEST_F(VerifiedTokenCacheTest, ZeroLeewayMissesAtExp) {
  VerifiedTokenCache cache(100, 0);
  cache.Insert(token(), identity(), kNow);
  EXPECT_EQ(cache.Find(token(), kExp - 1), identity());
  EXPECT_EQ(cache.Find(token(), kExp), nullptr);
}

TEST_F(VerifiedTokenCacheTest, SizeNeverExceedsCapacity) {
  for (size_t capacity : {size_t{1}, size_t{10}, size_t{17}, size_t{100}, size_t{1000}}) {
    VerifiedTokenCache cache(capacity, kLeeway);
    size_t largest = 0;
    for (int i = 0; i < 5000; ++i) {
      cache.Insert("token-" + std::to_string(i), identity(), kNow);
      largest = std::max(largest, cache.size());
    }
    EXPECT_LE(largest, capacity) << "capacity " << capacity;
    EXPECT_GT(largest, 0u) << "capacity " << capacity;
  }
}

TEST_F(VerifiedTokenCacheTest, FullCacheMakesRoomForTheNewestToken) {
  // Capacity 1: one slot, so every new token must evict the old one, expired
  // or not.
  VerifiedTokenCache cache(1, kLeeway);
  cache.Insert("first", identity(), kNow);
  cache.Insert("second", identity(), kNow);  // "first" is still live
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("first", kNow), nullptr);
  EXPECT_EQ(cache.Find("second", kNow), identity());
  cache.Insert("third", identity(), kExp + kLeeway);  // "second" has expired
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("third", kNow), identity());
}

TEST_F(VerifiedTokenCacheTest, CapacityZeroDisablesTheCache) {
  VerifiedTokenCache cache(0, kLeeway);
  cache.Insert(token(), identity(), kNow);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(token(), kNow), nullptr);
}

TEST_F(VerifiedTokenCacheTest, ConcurrentInsertsAndFindsStayBounded) {
  constexpr size_t kCapacity = 64;
  VerifiedTokenCache cache(kCapacity, kLeeway);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        cache.Insert(key, identity(), kNow);
        (void)cache.Find(key, kNow);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.size(), kCapacity);
}

TEST_F(VerifiedTokenCacheTest, HitsOnlyWhileTheKeySetItWasVerifiedWithIsCurrent) {
  VerifiedTokenCache cache(10, kLeeway);
  auto verified_with = std::make_shared<const JwkSet>();
  auto rotated = std::make_shared<const JwkSet>();
  cache.Insert(token(), identity(), kNow, verified_with);
  EXPECT_EQ(cache.Find(token(), kNow, verified_with.get()), identity());
  EXPECT_EQ(cache.Find(token(), kNow, rotated.get()), nullptr);
  // The stale entry is gone, even for the set it was verified with.
  EXPECT_EQ(cache.Find(token(), kNow, verified_with.get()), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace tollgate
