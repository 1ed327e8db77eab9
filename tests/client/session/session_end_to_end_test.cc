// A Session against the real auth_service and sum_service binaries on a
// throwaway PostgreSQL, with 3-second access tokens and no clock leeway at
// SumService (a token is refused the moment it expires). Calls are counted
// at the servers, from their /metrics (grpc_server_handled_total).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/session/in_memory_token_store.h"
#include "client/session/session.h"
#include "client/session/token_store.h"
#include "client/session/unverified_expiry.h"
#include "tests/support/child_process.h"
#include "tests/support/fake_clock.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/prometheus_text.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::client {
namespace {

using tollgate::testing::ChildProcess;
using tollgate::testing::PrometheusText;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kExampleBinary[] = TOLLGATE_SESSION_SUM_LOOP_BIN;
constexpr char kSecret[] = "session-end-to-end-test-secret-0123456789";
constexpr char kEmail[] = "ada@example.com";
constexpr char kPassword[] = "correct horse battery staple";
constexpr auto kStartTimeout = std::chrono::seconds(60);
// AUTH_ACCESS_TTL for these tests; the Session renews such a token when
// 10% of it, 300 ms, is left (refresh_schedule.h).
constexpr int kAccessTtlSeconds = 3;
constexpr int64_t kRefreshLeadMillis = 300;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An InMemoryTokenStore that remembers every pair saved in it: when it came,
// and when its access token expires (its exp claim, as SumService checks it).
class RecordingTokenStore final : public TokenStore {
 public:
  struct Saved {
    int64_t saved_at_millis;
    int64_t expires_at_millis;
  };

  absl::StatusOr<SavedTokens> Load() override { return store_.Load(); }
  absl::Status Save(const SavedTokens& tokens) override {
    std::optional<int64_t> exp = UnverifiedExpiryUnixSeconds(tokens.access_token);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      saved_.push_back({NowMillis(), exp ? *exp * 1000 : -1});
    }
    return store_.Save(tokens);
  }
  absl::Status Clear() override { return store_.Clear(); }
  absl::StatusOr<std::unique_ptr<Lock>> LockForRefresh() override {
    return store_.LockForRefresh();
  }

  std::vector<Saved> saved() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return saved_;
  }

 private:
  InMemoryTokenStore store_;
  mutable std::mutex mutex_;
  std::vector<Saved> saved_;
};

std::string Target(int port) { return "127.0.0.1:" + std::to_string(port); }

// The HTTP port from a service's JSON "listening" line with protocol http.
absl::StatusOr<int> HttpPort(ChildProcess& child) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(child.Output());
    for (std::string line; std::getline(lines, line);) {
      const nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
      if (json.is_object() && json.value("msg", "") == "listening" &&
          json.value("protocol", "") == "http") {
        return json.value("port", 0);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("no http listening line in:\n" + child.Output());
}

// grpc_server_handled_total of one unary method and status at a server.
double Handled(int http_port, const std::string& service, const std::string& method,
               const std::string& code) {
  absl::StatusOr<PrometheusText> metrics = tollgate::testing::ScrapeMetrics(http_port);
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  if (!metrics.ok()) return -1;
  return metrics
      ->Value("grpc_server_handled_total", {{"grpc_code", code},
                                            {"grpc_method", method},
                                            {"grpc_service", service},
                                            {"grpc_type", "unary"}})
      .value_or(0);
}

class SessionEndToEndTest : public tollgate::testing::PostgresSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    static int database_number = 0;
    absl::StatusOr<std::string> url = cluster_->CreateDatabase(
        "session_" + std::to_string(getpid()) + "_" + std::to_string(++database_number));
    ASSERT_TRUE(url.ok()) << url.status();

    auto auth = ChildProcess::Start(
        kAuthServiceBinary, {},
        {"AUTH_LISTEN=127.0.0.1:0", "AUTH_HTTP_LISTEN=127.0.0.1:0", "AUTH_DATABASE_URL=" + *url,
         std::string("JWT_SECRET_KEY=") + kSecret,
         "AUTH_ACCESS_TTL=" + std::to_string(kAccessTtlSeconds), "AUTH_ARGON2_MEMORY_KIB=8192",
         "AUTH_ARGON2_ITERATIONS=1", "AUTH_SESSION_PURGE_INTERVAL=0"});
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = *std::move(auth);
    absl::StatusOr<int> auth_port = auth_->WaitForPort(kStartTimeout);
    ASSERT_TRUE(auth_port.ok()) << auth_port.status();
    auth_port_ = *auth_port;
    absl::StatusOr<int> auth_http = HttpPort(*auth_);
    ASSERT_TRUE(auth_http.ok()) << auth_http.status();
    auth_http_port_ = *auth_http;

    // TOKEN_LEEWAY=0: SumService refuses a token the second it expires, so
    // a Session that renewed late would show as failed calls.
    auto sum = ChildProcess::Start(
        kSumServiceBinary, {},
        {"SUM_LISTEN=127.0.0.1:0", "SUM_HTTP_LISTEN=127.0.0.1:0",
         std::string("JWT_SECRET_KEY=") + kSecret, "TOKEN_LEEWAY=0"});
    ASSERT_TRUE(sum.ok()) << sum.status();
    sum_ = *std::move(sum);
    absl::StatusOr<int> sum_port = sum_->WaitForPort(kStartTimeout);
    ASSERT_TRUE(sum_port.ok()) << sum_port.status();
    sum_port_ = *sum_port;
    absl::StatusOr<int> sum_http = HttpPort(*sum_);
    ASSERT_TRUE(sum_http.ok()) << sum_http.status();
    sum_http_port_ = *sum_http;

    auth_channel_ = grpc::CreateChannel(Target(auth_port_), grpc::InsecureChannelCredentials());
    sum_channel_ = grpc::CreateChannel(Target(sum_port_), grpc::InsecureChannelCredentials());
    auth_stub_ = auth::v1::AuthService::NewStub(auth_channel_);
    sum_stub_ = sum::v1::SumService::NewStub(sum_channel_);
    Register();
  }

  void TearDown() override {
    // Our idle connections first: a server stopping with a client
    // connection open that no thread polls (sync stubs between calls) waits
    // about 5 s for it to go.
    auth_stub_.reset();
    sum_stub_.reset();
    auth_channel_.reset();
    sum_channel_.reset();
    for (auto* process : {&sum_, &auth_}) {
      if (*process) {
        EXPECT_TRUE((*process)->Terminate().ok());
        process->reset();
      }
    }
  }

  void Register() {
    auth::v1::RegisterRequest request;
    request.set_email(kEmail);
    request.set_password(kPassword);
    request.set_first_name("Ada");
    request.set_last_name("Lovelace");
    grpc::ClientContext context;
    auth::v1::AuthResponse response;
    const grpc::Status status = auth_stub_->Register(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  double Refreshes(const std::string& code) {
    return Handled(auth_http_port_, "tollgate.auth.v1.AuthService", "Refresh", code);
  }
  double Sums(const std::string& code) {
    return Handled(sum_http_port_, "tollgate.sum.v1.SumService", "Sum", code);
  }

  // Sum(a, b) on a plain stub with the session's credentials.
  grpc::Status SumWithCredentials(Session& session, int64_t a, int64_t b) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    context.set_credentials(session.Credentials());
    sum::v1::SumRequest request;
    request.set_a(a);
    request.set_b(b);
    sum::v1::SumResponse response;
    grpc::Status status = sum_stub_->Sum(&context, request, &response);
    if (status.ok() && response.result() != a + b) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS, "wrong sum");
    }
    return status;
  }

  absl::Status SumThroughCall(Session& session) {
    return session.Call("Sum", [&](grpc::ClientContext& context) {
      sum::v1::SumRequest request;
      request.set_a(40);
      request.set_b(2);
      sum::v1::SumResponse response;
      return sum_stub_->Sum(&context, request, &response);
    });
  }

  std::unique_ptr<ChildProcess> auth_;
  std::unique_ptr<ChildProcess> sum_;
  int auth_port_ = 0;
  int auth_http_port_ = 0;
  int sum_port_ = 0;
  int sum_http_port_ = 0;
  std::shared_ptr<grpc::Channel> auth_channel_;
  std::shared_ptr<grpc::Channel> sum_channel_;
  std::unique_ptr<auth::v1::AuthService::Stub> auth_stub_;
  std::unique_ptr<sum::v1::SumService::Stub> sum_stub_;
};

// 32 threads x 200 Sum calls through one Session's credentials, paced over
// about 10 s: several lifetimes of the 3-second token. Every call succeeds
// (SumService has no leeway), and AuthService sees exactly one Refresh per
// expiry crossed: per token whose renewal point (its exp less the 300 ms
// lead) came while calls were being made; not one per thread. Each token
// was renewed after that point and before it died.
TEST_F(SessionEndToEndTest, ThirtyTwoThreadsRenewOncePerExpiryCrossed) {
  constexpr int kThreads = 32;
  constexpr int kCallsPerThread = 200;
  constexpr auto kPace = std::chrono::milliseconds(50);
  auto store = std::make_shared<RecordingTokenStore>();
  absl::StatusOr<std::shared_ptr<Session>> session =
      Session::Login(auth_channel_, kEmail, kPassword, store);
  ASSERT_TRUE(session.ok()) << session.status();
  const auto logged_in = std::chrono::steady_clock::now();
  ASSERT_EQ(Refreshes("OK"), 0);

  std::atomic<int> failures{0};
  std::atomic<int64_t> last_call_at_millis{0};
  std::mutex first_failure_mutex;
  std::string first_failure;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Threads start spread over one pace, then each calls every 50 ms.
      auto next = logged_in + kPace * t / kThreads;
      for (int call = 0; call < kCallsPerThread; ++call) {
        std::this_thread::sleep_until(next);
        next += kPace;
        const int64_t started = NowMillis();
        int64_t last = last_call_at_millis.load();
        while (started > last && !last_call_at_millis.compare_exchange_weak(last, started)) {
        }
        const grpc::Status status = SumWithCredentials(**session, t, call);
        if (!status.ok() && failures.fetch_add(1) == 0) {
          std::lock_guard<std::mutex> lock(first_failure_mutex);
          first_failure = std::to_string(status.error_code()) + " " + status.error_message();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(Sums("OK"), kThreads * kCallsPerThread);
  EXPECT_EQ(Sums("Unauthenticated"), 0);

  // The tokens the session held, in order: the Login's, then one per
  // Refresh.
  const std::vector<RecordingTokenStore::Saved> tokens = store->saved();
  ASSERT_GE(tokens.size(), 1u);
  int expiries_crossed = 0;
  for (const RecordingTokenStore::Saved& token : tokens) {
    ASSERT_GT(token.expires_at_millis, 0) << "an access token without exp";
    if (token.expires_at_millis - kRefreshLeadMillis <= last_call_at_millis.load()) {
      ++expiries_crossed;
    }
  }
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const int64_t renewed_at = tokens[i + 1].saved_at_millis;
    EXPECT_GE(renewed_at, tokens[i].expires_at_millis - kRefreshLeadMillis) << "token " << i;
    EXPECT_LT(renewed_at, tokens[i].expires_at_millis) << "token " << i;
  }
  const double refreshes = Refreshes("OK");
  std::cout << tokens.size() << " tokens, " << expiries_crossed << " expiries crossed, "
            << refreshes << " Refresh calls at AuthService" << std::endl;
  EXPECT_EQ(refreshes, expiries_crossed);
  EXPECT_EQ(refreshes, static_cast<double>(tokens.size() - 1));
  EXPECT_EQ(refreshes, (*session)->refreshes());
  EXPECT_EQ(Refreshes("Unauthenticated"), 0);
  EXPECT_GE(expiries_crossed, 3);  // several lifetimes
}

// Logout elsewhere revokes the session. Its access token still verifies
// until the Session next renews it; that Refresh is refused, the call that
// needed it fails with "session ended", the callback fires once, and
// nothing more reaches either server, however many calls follow.
TEST_F(SessionEndToEndTest, ASessionRevokedElsewhereEndsAtItsNextRefreshWithoutARetryStorm) {
  // The Session's view of time: now, until the test moves it.
  tollgate::testing::FakeClock clock(SystemClock().NowUnixSeconds());
  std::atomic<int> ended_calls{0};
  SessionOptions options;
  options.clock = &clock;
  options.on_ended = [&](const absl::Status&) { ++ended_calls; };
  auto store = std::make_shared<InMemoryTokenStore>();
  absl::StatusOr<std::shared_ptr<Session>> session =
      Session::Login(auth_channel_, kEmail, kPassword, store, options);
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE(SumThroughCall(**session).ok());
  ASSERT_TRUE(SumWithCredentials(**session, 1, 2).ok());

  // Another device of the user logs out every session.
  {
    auth::v1::LogoutRequest request;
    request.set_refresh_token(store->Load()->refresh_token);
    request.set_all_sessions(true);
    grpc::ClientContext context;
    auth::v1::LogoutResponse response;
    ASSERT_TRUE(auth_stub_->Logout(&context, request, &response).ok());
  }
  // Not due yet: the access token still works (it is checked without the
  // database).
  ASSERT_TRUE(SumThroughCall(**session).ok());
  ASSERT_EQ(Sums("OK"), 3);

  clock.Advance(kAccessTtlSeconds);  // due (and expired, for the Session)
  const absl::Status ended = SumThroughCall(**session);
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ended.message(), "session ended: Refresh: UNAUTHENTICATED: invalid refresh token");
  EXPECT_EQ(ended_calls.load(), 1);
  EXPECT_EQ((*session)->ended(), ended);

  // 8 threads keep calling, both ways: each call fails at once.
  std::atomic<int> not_ended{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int call = 0; call < 25; ++call) {
        if (SumThroughCall(**session) != ended) ++not_ended;
        if (!IsSessionEnded(SumWithCredentials(**session, 1, 2))) ++not_ended;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(not_ended.load(), 0);
  EXPECT_EQ(ended_calls.load(), 1);
  EXPECT_EQ(Refreshes("Unauthenticated"), 1);
  EXPECT_EQ(Refreshes("OK"), 0);
  EXPECT_EQ(Sums("OK"), 3);
  EXPECT_EQ(Sums("Unauthenticated"), 0);
}

// The example program under examples/cpp/ logs in once and calls Sum
// across several token lifetimes.
TEST_F(SessionEndToEndTest, TheExampleProgramCallsSumAcrossSeveralTokenLifetimes) {
  auto example = ChildProcess::Start(
      kExampleBinary,
      {"--auth=" + Target(auth_port_), "--sum=" + Target(sum_port_), std::string("--email=") + kEmail,
       "--calls=16", "--interval-ms=600"},
      {std::string("TOLLGATE_PASSWORD=") + kPassword});
  ASSERT_TRUE(example.ok()) << example.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((*example)->Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE((*example)->Running()) << (*example)->Output();
  const std::string output = (*example)->Output();
  EXPECT_EQ((*example)->ExitCode(), 0) << output;
  EXPECT_NE(output.find(std::string("logged in as ") + kEmail + "\n"), std::string::npos)
      << output;
  EXPECT_NE(output.find("call 1/16: 1 + 1000 = 1001"), std::string::npos) << output;
  EXPECT_NE(output.find("call 16/16: 16 + 1000 = 1016"), std::string::npos) << output;
  // 9 s of calls: three lifetimes of the 3-second token, each renewed
  // once, 300 ms before it dies (at least 3 renewals).
  const double refreshes = Refreshes("OK");
  EXPECT_GE(refreshes, 3) << output;
  EXPECT_NE(output.find("done: 16 calls, " + std::to_string(static_cast<int>(refreshes)) +
                        " refreshes"),
            std::string::npos)
      << output;
  EXPECT_EQ(Sums("OK"), 16);
}

}  // namespace
}  // namespace tollgate::client
