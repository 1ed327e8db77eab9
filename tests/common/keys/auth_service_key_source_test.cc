// AuthServiceKeySource against an in-process fake AuthService on
// 127.0.0.1:0 that implements only GetJwks: first fetch, single-flight and
// rate-limited refetch on unknown kids, keeping the last good keys while the
// AuthService is down, and no waiter left behind at destruction. Intervals
// are milliseconds; every wait is bounded.
#include "common/keys/auth_service_key_source.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics/service_metrics.h"
#include "prometheus/registry.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate {
namespace {

using std::chrono::milliseconds;

template <typename Condition>
bool Eventually(Condition condition, milliseconds timeout = milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// AuthService with GetJwks only (everything else: UNIMPLEMENTED), answering
// the JWKS the test sets. Hold() makes GetJwks wait until Release(), so a
// test can keep a fetch in flight.
class FakeAuthService final : public auth::v1::AuthService::Service {
 public:
  grpc::Status GetJwks(grpc::ServerContext*, const auth::v1::GetJwksRequest*,
                       auth::v1::GetJwksResponse* response) override {
    calls_.fetch_add(1);
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    released_.wait(lock, [this] { return !held_; });
    --waiting_;
    response->set_jwks_json(jwks_json_);
    return grpc::Status::OK;
  }

  void SetJwks(std::string jwks_json) {
    std::lock_guard<std::mutex> lock(mutex_);
    jwks_json_ = std::move(jwks_json);
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }
  int calls() const { return calls_.load(); }
  int waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_;
  }

 private:
  std::atomic<int> calls_{0};
  mutable std::mutex mutex_;
  std::condition_variable released_;
  bool held_ = false;
  int waiting_ = 0;
  std::string jwks_json_ = R"({"keys":[]})";
};

class AuthServiceKeySourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_a_ = new Jwk(testing::GenerateKey(JwsAlgorithm::kES256));
    key_b_ = new Jwk(testing::GenerateKey(JwsAlgorithm::kEdDSA));
  }
  static void TearDownTestSuite() {
    delete key_a_;
    delete key_b_;
  }

  AuthServiceKeySourceTest() {
    service_.SetJwks(JwksOf({*key_a_}));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }

  ~AuthServiceKeySourceTest() override {
    service_.Release();
    source_.reset();  // before the server: it may still be fetching
    StopServer();
  }

  static std::string JwksOf(std::vector<Jwk> keys) { return JwkSet::FromKeys(std::move(keys))->ToPublicJson(); }

  void StopServer() {
    if (server_ == nullptr) return;
    service_.Release();
    server_->Shutdown();
    server_.reset();
  }

  AuthServiceKeySourceOptions Options() {
    AuthServiceKeySourceOptions options;
    options.target = "127.0.0.1:" + std::to_string(port_);
    options.refresh_interval = std::chrono::seconds(300);  // no background fetch in a test
    options.retry_interval = milliseconds(50);
    options.min_refetch_interval = milliseconds(60'000);
    options.fetch_deadline = milliseconds(2000);
    options.on_first_keys = [this] { first_keys_.fetch_add(1); };
    return options;
  }

  // Starts the source and waits for its first keys.
  void StartSource(AuthServiceKeySourceOptions options) {
    source_ = std::make_unique<AuthServiceKeySource>(std::move(options));
    ASSERT_TRUE(Eventually([this] { return first_keys_.load() == 1; }));
  }

  // RefreshForUnknownKid, waiting (bounded) for `done`.
  void RefreshAndWait() {
    auto done = std::make_shared<std::atomic<bool>>(false);
    source_->RefreshForUnknownKid([done] { done->store(true); });
    ASSERT_TRUE(Eventually([&] { return done->load(); }));
  }

  static Jwk* key_a_;
  static Jwk* key_b_;
  FakeAuthService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> first_keys_{0};
  std::unique_ptr<AuthServiceKeySource> source_;
};

Jwk* AuthServiceKeySourceTest::key_a_ = nullptr;
Jwk* AuthServiceKeySourceTest::key_b_ = nullptr;

TEST_F(AuthServiceKeySourceTest, CurrentIsEmptyUntilTheFirstFetchArrives) {
  service_.Hold();
  source_ = std::make_unique<AuthServiceKeySource>(Options());
  ASSERT_TRUE(Eventually([this] { return service_.waiting() == 1; }));
  ASSERT_NE(source_->Current(), nullptr);
  EXPECT_TRUE(source_->Current()->empty());
  EXPECT_EQ(first_keys_.load(), 0);
  service_.Release();
  ASSERT_TRUE(Eventually([this] { return first_keys_.load() == 1; }));
  EXPECT_NE(source_->Current()->Find(key_a_->kid()), nullptr);
}

TEST_F(AuthServiceKeySourceTest, FirstFetchInstallsKeysAndCallsOnFirstKeysOnce) {
  AuthServiceKeySourceOptions options = Options();
  options.min_refetch_interval = milliseconds(0);
  StartSource(options);
  EXPECT_EQ(service_.calls(), 1);
  EXPECT_EQ(source_->fetches(), 1);
  EXPECT_EQ(source_->failed_fetches(), 0);
  ASSERT_EQ(source_->Current()->keys().size(), 1u);
  EXPECT_NE(source_->Current()->Find(key_a_->kid()), nullptr);
  // Later successful fetches are not "first".
  RefreshAndWait();
  RefreshAndWait();
  EXPECT_EQ(source_->fetches(), 3);
  EXPECT_EQ(first_keys_.load(), 1);
}

TEST_F(AuthServiceKeySourceTest, RetriesUntilTheAuthServiceAnswers) {
  service_.SetJwks("not json");
  source_ = std::make_unique<AuthServiceKeySource>(Options());
  ASSERT_TRUE(Eventually([this] { return source_->failed_fetches() >= 2; }));
  EXPECT_TRUE(source_->Current()->empty());
  EXPECT_EQ(first_keys_.load(), 0);
  service_.SetJwks(JwksOf({*key_a_}));
  ASSERT_TRUE(Eventually([this] { return first_keys_.load() == 1; }));
  EXPECT_NE(source_->Current()->Find(key_a_->kid()), nullptr);
}

TEST_F(AuthServiceKeySourceTest, UnknownKidTriggersOneFetchThatFindsTheRotatedKey) {
  StartSource(Options());
  service_.SetJwks(JwksOf({*key_a_, *key_b_}));
  RefreshAndWait();
  EXPECT_EQ(service_.calls(), 2);
  EXPECT_EQ(source_->fetches(), 2);
  EXPECT_NE(source_->Current()->Find(key_b_->kid()), nullptr);
}

TEST_F(AuthServiceKeySourceTest, AnUnchangedJwksKeepsTheSameKeySetObject) {
  // The verified-token cache is bound to the set object: a routine refetch
  // of the same document must not flush it.
  StartSource(Options());
  const std::shared_ptr<const JwkSet> before = source_->Current();
  RefreshAndWait();
  EXPECT_EQ(service_.calls(), 2);
  EXPECT_EQ(source_->Current(), before);
}

TEST_F(AuthServiceKeySourceTest, UnknownKidDuringABackgroundFetchGetsAFetchThatStartsAfterIt) {
  // The background fetch may have left before the new key was published, so
  // it must not be the answer to a request that arrived while it ran.
  service_.Hold();
  source_ = std::make_unique<AuthServiceKeySource>(Options());
  ASSERT_TRUE(Eventually([this] { return service_.waiting() == 1; }));
  std::atomic<bool> done{false};
  source_->RefreshForUnknownKid([&done] { done.store(true); });
  service_.Release();
  ASSERT_TRUE(Eventually([&done] { return done.load(); }));
  EXPECT_EQ(service_.calls(), 2);
}

TEST_F(AuthServiceKeySourceTest, UnknownKidDuringAnOnDemandFetchJoinsIt) {
  StartSource(Options());
  service_.Hold();
  std::atomic<int> done{0};
  source_->RefreshForUnknownKid([&done] { done.fetch_add(1); });
  ASSERT_TRUE(Eventually([this] { return service_.waiting() == 1; }));
  source_->RefreshForUnknownKid([&done] { done.fetch_add(1); });
  EXPECT_EQ(done.load(), 0);  // not answered before the fetch it joined
  service_.Release();
  ASSERT_TRUE(Eventually([&done] { return done.load() == 2; }));
  EXPECT_EQ(service_.calls(), 2);  // the first fetch and one on demand
}

TEST_F(AuthServiceKeySourceTest, ConcurrentUnknownKidsShareOneFetch) {
  constexpr int kCallers = 50;
  StartSource(Options());
  service_.SetJwks(JwksOf({*key_a_, *key_b_}));
  service_.Hold();  // keep the one fetch in flight until every caller joined

  std::atomic<int> done{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      source_->RefreshForUnknownKid([&done] { done.fetch_add(1); });
    });
  }
  ASSERT_TRUE(Eventually([&] { return ready.load() == kCallers; }));
  go.store(true);
  for (auto& caller : callers) caller.join();

  // Every caller joined the fetch that is held in the server: none is
  // answered yet, and only one request reached the AuthService.
  ASSERT_TRUE(Eventually([this] { return service_.waiting() == 1; }));
  EXPECT_EQ(done.load(), 0);
  EXPECT_EQ(service_.calls(), 2);

  service_.Release();
  ASSERT_TRUE(Eventually([&] { return done.load() == kCallers; }));
  EXPECT_EQ(service_.calls(), 2);
  EXPECT_EQ(source_->fetches(), 2);
  EXPECT_NE(source_->Current()->Find(key_b_->kid()), nullptr);
}

TEST_F(AuthServiceKeySourceTest, SecondUnknownKidWithinMinRefetchIntervalDoesNotFetch) {
  StartSource(Options());  // min_refetch_interval: one minute
  RefreshAndWait();
  ASSERT_EQ(service_.calls(), 2);

  // Rate-limited: `done` runs at once, on the caller's thread, without a fetch.
  std::thread::id answered_on;
  bool answered = false;
  source_->RefreshForUnknownKid([&] {
    answered = true;
    answered_on = std::this_thread::get_id();
  });
  EXPECT_TRUE(answered);
  EXPECT_EQ(answered_on, std::this_thread::get_id());
  EXPECT_EQ(service_.calls(), 2);
  EXPECT_EQ(source_->fetches(), 2);
}

TEST_F(AuthServiceKeySourceTest, UnknownKidAfterMinRefetchIntervalFetchesAgain) {
  AuthServiceKeySourceOptions options = Options();
  options.min_refetch_interval = milliseconds(100);
  StartSource(options);
  RefreshAndWait();
  ASSERT_EQ(service_.calls(), 2);
  std::this_thread::sleep_for(milliseconds(150));  // steady_clock: no fake to advance
  RefreshAndWait();
  EXPECT_EQ(service_.calls(), 3);
  EXPECT_EQ(source_->fetches(), 3);
}

TEST_F(AuthServiceKeySourceTest, BackgroundRefreshDropsRotatedOutKeys) {
  AuthServiceKeySourceOptions options = Options();
  options.refresh_interval = std::chrono::seconds(1);  // the smallest it can be
  StartSource(options);
  service_.SetJwks(JwksOf({*key_b_}));  // key A rotated out, key B in
  ASSERT_TRUE(Eventually([this] { return source_->Current()->Find(key_b_->kid()) != nullptr; }));
  EXPECT_EQ(source_->Current()->Find(key_a_->kid()), nullptr);
  EXPECT_EQ(source_->Current()->keys().size(), 1u);
  EXPECT_EQ(first_keys_.load(), 1);
}

TEST_F(AuthServiceKeySourceTest, KeepsLastGoodKeysWhenTheAuthServiceIsDown) {
  AuthServiceKeySourceOptions options = Options();
  options.min_refetch_interval = milliseconds(0);
  options.fetch_deadline = milliseconds(500);
  StartSource(options);
  const std::shared_ptr<const JwkSet> before = source_->Current();
  ASSERT_NE(before->Find(key_a_->kid()), nullptr);

  StopServer();
  RefreshAndWait();  // `done` is still called when the fetch fails
  EXPECT_GE(source_->failed_fetches(), 1);
  EXPECT_EQ(source_->fetches(), 1);
  EXPECT_EQ(source_->Current(), before);  // the very same set, not an empty one
  EXPECT_NE(source_->Current()->Find(key_a_->kid()), nullptr);
}

TEST_F(AuthServiceKeySourceTest, KeepsLastGoodKeysWhenTheJwksIsUnusable) {
  AuthServiceKeySourceOptions options = Options();
  options.min_refetch_interval = milliseconds(0);
  StartSource(options);
  const std::shared_ptr<const JwkSet> before = source_->Current();
  service_.SetJwks(R"({"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]})");
  RefreshAndWait();
  EXPECT_EQ(source_->failed_fetches(), 1);
  EXPECT_EQ(source_->Current(), before);
}

TEST_F(AuthServiceKeySourceTest, DestructionAnswersAPendingWaiter) {
  AuthServiceKeySourceOptions options = Options();
  options.fetch_deadline = milliseconds(300);
  StartSource(options);
  service_.Hold();
  std::atomic<int> done{0};
  source_->RefreshForUnknownKid([&done] { done.fetch_add(1); });
  ASSERT_TRUE(Eventually([this] { return service_.waiting() == 1; }));
  ASSERT_EQ(done.load(), 0);
  source_.reset();  // the fetch in flight times out; the waiter must not be lost
  EXPECT_EQ(done.load(), 1);
}

TEST_F(AuthServiceKeySourceTest, DestructionRightAfterARefreshRequestAnswersIt) {
  // Whoever answers it (the fetch thread or the destructor), the waiter is
  // answered exactly once by the time the source is gone.
  StartSource(Options());
  std::atomic<int> done{0};
  source_->RefreshForUnknownKid([&done] { done.fetch_add(1); });
  source_.reset();
  EXPECT_EQ(done.load(), 1);
}

// ---- Counting (options.metrics) and the age of the keys ----

TEST_F(AuthServiceKeySourceTest, CountsEachFetchByResult) {
  prometheus::Registry registry;
  KeyFetchMetrics metrics(registry);
  AuthServiceKeySourceOptions options = Options();
  options.min_refetch_interval = milliseconds(0);
  options.metrics = &metrics;
  StartSource(options);
  EXPECT_EQ(metrics.jwks_fetch_ok_total.Value(), 1);
  RefreshAndWait();  // the same set again: still "ok"
  EXPECT_EQ(metrics.jwks_fetch_ok_total.Value(), 2);

  service_.SetJwks("not json");
  RefreshAndWait();
  EXPECT_EQ(metrics.jwks_fetch_rejected_total.Value(), 1);

  StopServer();
  RefreshAndWait();
  EXPECT_EQ(metrics.jwks_fetch_error_total.Value(), 1);

  EXPECT_EQ(metrics.jwks_fetch_ok_total.Value(), 2);
  EXPECT_EQ(metrics.jwks_fetch_rejected_total.Value(), 1);
  EXPECT_EQ(source_->fetches(), 2);
  EXPECT_EQ(source_->failed_fetches(), 2);
}

TEST_F(AuthServiceKeySourceTest, KeysAgeIsUnsetUntilTheFirstFetchSucceeds) {
  service_.SetJwks("not json");
  source_ = std::make_unique<AuthServiceKeySource>(Options());
  ASSERT_TRUE(Eventually([this] { return source_->failed_fetches() >= 1; }));
  EXPECT_EQ(source_->KeysAge(), std::nullopt);
  service_.SetJwks(JwksOf({*key_a_}));
  ASSERT_TRUE(Eventually([this] { return first_keys_.load() == 1; }));
  EXPECT_NE(source_->KeysAge(), std::nullopt);
}

TEST_F(AuthServiceKeySourceTest, KeysAgeCountsFromTheLastSuccessfulFetch) {
  using std::chrono::steady_clock;
  AuthServiceKeySourceOptions options = Options();
  options.min_refetch_interval = milliseconds(0);
  StartSource(options);
  const steady_clock::time_point loaded = steady_clock::now();  // after the first success
  // Apart from timing jitter: a failure that reset the age would show an
  // age under the time since `loaded`.
  std::this_thread::sleep_for(milliseconds(20));

  service_.SetJwks("not json");
  RefreshAndWait();
  const steady_clock::time_point before_read = steady_clock::now();
  const auto age_after_failure = source_->KeysAge();
  ASSERT_TRUE(age_after_failure.has_value());
  EXPECT_GE(*age_after_failure, before_read - loaded);

  service_.SetJwks(JwksOf({*key_a_}));
  const steady_clock::time_point refetch = steady_clock::now();
  RefreshAndWait();
  const auto age_after_success = source_->KeysAge();
  ASSERT_TRUE(age_after_success.has_value());
  EXPECT_LE(*age_after_success, steady_clock::now() - refetch);
}

}  // namespace
}  // namespace tollgate
