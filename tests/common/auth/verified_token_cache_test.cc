// VerifiedTokenCache: exact-bytes keys, the verifier's expiry rule
// (now >= exp + leeway misses), the key-set version, a hard bound on its
// shared size, and each thread's own copies.
#include "common/auth/verified_token_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
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
constexpr uint64_t kKeys = 7;  // the KeySource::version() the tests verify with

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

// The same claims as identity(), whether the same object or a thread's copy.
::testing::AssertionResult IsTheCachedIdentity(const std::shared_ptr<const Identity>& found,
                                               const Identity& expected) {
  if (found == nullptr) return ::testing::AssertionFailure() << "a miss";
  if (found->subject() != expected.subject() || found->token_id() != expected.token_id() ||
      found->email() != expected.email() || found->roles() != expected.roles() ||
      found->expires_at_unix_seconds() != expected.expires_at_unix_seconds()) {
    return ::testing::AssertionFailure() << "another identity: sub " << found->subject()
                                         << ", jti " << found->token_id();
  }
  return ::testing::AssertionSuccess();
}

TEST_F(VerifiedTokenCacheTest, HitReturnsTheSameIdentity) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  std::shared_ptr<const Identity> found = cache.Find(token(), kNow + 1, kKeys);
  EXPECT_EQ(found, identity());  // the same object, not a re-parsed copy
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(VerifiedTokenCacheTest, LaterHitsOnAThreadReturnItsOwnCopy) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  // Each thread: the shared entry first, then its own copy, which later
  // hits keep returning; no thread sees another's copy.
  // Held past the threads' end, so no two copies can share an address.
  std::vector<std::shared_ptr<const Identity>> copies(3);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < copies.size(); ++t) {
    threads.emplace_back([&, t] {
      EXPECT_EQ(cache.Find(token(), kNow, kKeys), identity());
      std::shared_ptr<const Identity> own = cache.Find(token(), kNow, kKeys);
      EXPECT_TRUE(IsTheCachedIdentity(own, *identity()));
      EXPECT_EQ(cache.Find(token(), kNow, kKeys), own);
      copies[t] = own;
    });
  }
  for (auto& thread : threads) thread.join();
  for (size_t t = 0; t < copies.size(); ++t) {
    EXPECT_NE(copies[t], identity()) << "thread " << t;
    for (size_t u = 0; u < t; ++u) EXPECT_NE(copies[t], copies[u]) << t << " and " << u;
  }
}

TEST_F(VerifiedTokenCacheTest, ThreadsCopyFollowsTheExpiryRule) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  ASSERT_EQ(cache.Find(token(), kNow, kKeys), identity());
  ASSERT_TRUE(IsTheCachedIdentity(cache.Find(token(), kExp + kLeeway - 1, kKeys), *identity()));
  EXPECT_EQ(cache.Find(token(), kExp + kLeeway, kKeys), nullptr);
  // Both levels dropped it: an earlier clock finds nothing either.
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(token(), kNow, kKeys), nullptr);
}

TEST_F(VerifiedTokenCacheTest, ACacheNeverAnswersWithAnotherCachesEntries) {
  // The second cache is built where the first one was, so only the ids
  // tell the thread's entries apart.
  std::optional<VerifiedTokenCache> cache;
  cache.emplace(100, kLeeway);
  cache->Insert(token(), identity(), kNow, kKeys);
  ASSERT_EQ(cache->Find(token(), kNow, kKeys), identity());
  ASSERT_TRUE(IsTheCachedIdentity(cache->Find(token(), kNow, kKeys), *identity()));
  cache.reset();
  cache.emplace(100, kLeeway);
  EXPECT_EQ(cache->Find(token(), kNow, kKeys), nullptr);
}

TEST_F(VerifiedTokenCacheTest, MissesTokenNeverInserted) {
  VerifiedTokenCache cache(100, kLeeway);
  EXPECT_EQ(cache.Find(token(), kNow, kKeys), nullptr);
}

TEST_F(VerifiedTokenCacheTest, TokenThatDiffersInOneByteMisses) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  for (size_t i : {size_t{0}, token().size() / 2, token().size() - 1}) {
    std::string changed = token();
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(cache.Find(changed, kNow, kKeys), nullptr) << "byte " << i;
  }
  EXPECT_EQ(cache.Find(token().substr(0, token().size() - 1), kNow, kKeys), nullptr);  // a prefix
  EXPECT_EQ(cache.Find(token() + "A", kNow, kKeys), nullptr);  // an extension
  EXPECT_EQ(cache.Find(token(), kNow, kKeys), identity());
}

TEST_F(VerifiedTokenCacheTest, HitsOneSecondBeforeExpPlusLeeway) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  EXPECT_EQ(cache.Find(token(), kExp + kLeeway - 1, kKeys), identity());
}

TEST_F(VerifiedTokenCacheTest, MissesAtExpPlusLeeway) {
  VerifiedTokenCache cache(100, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  EXPECT_EQ(cache.Find(token(), kExp + kLeeway, kKeys), nullptr);
  // The expired entry is dropped, not merely hidden.
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(token(), kNow, kKeys), nullptr);
}

TEST_F(VerifiedTokenCacheTest, ZeroLeewayMissesAtExp) {
  VerifiedTokenCache cache(100, 0);
  cache.Insert(token(), identity(), kNow, kKeys);
  EXPECT_EQ(cache.Find(token(), kExp - 1, kKeys), identity());
  EXPECT_EQ(cache.Find(token(), kExp, kKeys), nullptr);
}

TEST_F(VerifiedTokenCacheTest, SizeNeverExceedsCapacity) {
  for (size_t capacity : {size_t{1}, size_t{10}, size_t{17}, size_t{100}, size_t{1000}}) {
    VerifiedTokenCache cache(capacity, kLeeway);
    size_t largest = 0;
    for (int i = 0; i < 5000; ++i) {
      cache.Insert("token-" + std::to_string(i), identity(), kNow, kKeys);
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
  cache.Insert("first", identity(), kNow, kKeys);
  cache.Insert("second", identity(), kNow, kKeys);  // "first" is still live
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("first", kNow, kKeys), nullptr);
  EXPECT_EQ(cache.Find("second", kNow, kKeys), identity());
  cache.Insert("third", identity(), kExp + kLeeway, kKeys);  // "second" has expired
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("third", kNow, kKeys), identity());
}

TEST_F(VerifiedTokenCacheTest, CapacityZeroDisablesTheCache) {
  VerifiedTokenCache cache(0, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(token(), kNow, kKeys), nullptr);
}

TEST_F(VerifiedTokenCacheTest, ConcurrentInsertsAndFindsStayBounded) {
  constexpr size_t kCapacity = 64;
  VerifiedTokenCache cache(kCapacity, kLeeway);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        cache.Insert(key, identity(), kNow, kKeys);
        (void)cache.Find(key, kNow, kKeys);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.size(), kCapacity);
}

TEST_F(VerifiedTokenCacheTest, HitsOnlyWhileTheKeySetItWasVerifiedWithIsCurrent) {
  VerifiedTokenCache cache(10, kLeeway);
  cache.Insert(token(), identity(), kNow, kKeys);
  EXPECT_EQ(cache.Find(token(), kNow, kKeys), identity());
  ASSERT_TRUE(IsTheCachedIdentity(cache.Find(token(), kNow, kKeys), *identity()));  // the thread's copy
  EXPECT_EQ(cache.Find(token(), kNow, kKeys + 1), nullptr);
  // The stale entry is gone from both levels, even for the version it was
  // verified with.
  EXPECT_EQ(cache.Find(token(), kNow, kKeys), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace tollgate
