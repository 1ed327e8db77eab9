// Session against fake AuthService and SumService servers on 127.0.0.1,
// with a clock that moves only when told: the proactive threshold, single
// flight, the reactive retry, the end of a session, failed refreshes, and
// stores shared by several Sessions.
#include "client/session/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/session/file_token_store.h"
#include "client/session/in_memory_token_store.h"
#include "client/session/refresh_schedule.h"
#include "client/session/rpc_failure.h"
#include "tests/client/session/fake_auth_server.h"
#include "tests/client/temp_dir.h"
#include "tests/support/fake_clock.h"

namespace tollgate::client {
namespace {

using testing::FakeAuthServer;

constexpr int64_t kNow = 1'800'000'000;
// The fakes' tokens live 900 s: the lead is 90 s.
constexpr int64_t kLifetime = 900;
constexpr int64_t kLead = 90;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    channel_ = server_.NewChannel();
    sum_ = sum::v1::SumService::NewStub(channel_);
  }

  SessionOptions Options() {
    SessionOptions options;
    options.clock = &clock_;
    options.rpc_timeout = std::chrono::seconds(10);
    options.on_ended = [this](const absl::Status& why) {
      ++ended_calls_;
      std::lock_guard<std::mutex> lock(ended_mutex_);
      ended_reason_ = why;
    };
    return options;
  }

  // Logs in on the fake (pair 1, saved in store_ at kNow).
  std::shared_ptr<Session> LogIn() {
    absl::StatusOr<std::shared_ptr<Session>> session =
        Session::Login(channel_, testing::kEmail, testing::kPassword, store_, Options());
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? *session : nullptr;
  }

  // Sum(20, 22) with the session's credentials on a plain stub.
  grpc::Status SumWithCredentials(Session& session) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    context.set_credentials(session.Credentials());
    sum::v1::SumRequest request;
    request.set_a(20);
    request.set_b(22);
    sum::v1::SumResponse response;
    grpc::Status status = sum_->Sum(&context, request, &response);
    if (status.ok()) {
      EXPECT_EQ(response.result(), 42);
    }
    return status;
  }

  // Sum(20, 22) through Call(); counts the attempts.
  absl::Status SumThroughCall(Session& session, int* attempts = nullptr) {
    return session.Call("Sum", [&](grpc::ClientContext& context) {
      if (attempts != nullptr) ++*attempts;
      sum::v1::SumRequest request;
      request.set_a(20);
      request.set_b(22);
      sum::v1::SumResponse response;
      return sum_->Sum(&context, request, &response);
    });
  }

  void ForgetAccessToken(const std::string& token) {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.live_access_tokens.erase(token);
  }

  FakeAuthServer server_;
  tollgate::testing::FakeClock clock_{kNow};
  std::shared_ptr<InMemoryTokenStore> store_ = std::make_shared<InMemoryTokenStore>();
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sum::v1::SumService::Stub> sum_;
  std::atomic<int> ended_calls_{0};
  std::mutex ended_mutex_;
  absl::Status ended_reason_;
};

TEST_F(SessionTest, LoginSavesThePairInTheStore) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  absl::StatusOr<SavedTokens> saved = store_->Load();
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->access_token, "access-1");
  EXPECT_EQ(saved->refresh_token, "tgr_refresh-1");
  EXPECT_EQ(saved->access_expires_at_unix_seconds, kNow + kLifetime);
  EXPECT_EQ(saved->access_lifetime_seconds, kLifetime);
  EXPECT_EQ(saved->refresh_expires_at_unix_seconds, kNow + 3600);
  EXPECT_EQ(saved->email, testing::kEmail);
  EXPECT_EQ(session->email(), testing::kEmail);
  EXPECT_TRUE(session->ended().ok());
}

TEST_F(SessionTest, AFailedLoginIsTheLoginErrorAndSavesNothing) {
  absl::StatusOr<std::shared_ptr<Session>> session =
      Session::Login(channel_, testing::kEmail, "wrong password", store_, Options());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(session.status().message(), "Login: UNAUTHENTICATED: invalid email or password");
  EXPECT_EQ(store_->Load().status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SessionTest, ResumeOfAnEmptyStoreIsNotFound) {
  absl::StatusOr<std::shared_ptr<Session>> session = Session::Resume(channel_, store_, Options());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SessionTest, CredentialsPutTheAccessTokenOnAPlainStubCall) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->Credentials(), session->Credentials());  // one object
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SumWithCredentials(*session).ok());
  EXPECT_EQ(server_.authorizations(),
            std::vector<std::string>(3, "Bearer access-1"));
  EXPECT_EQ(server_.refresh_calls(), 0);
}

// The proactive threshold: nothing before expiry - lead, a Refresh from
// then on, and the new pair saved before it is used.
TEST_F(SessionTest, RefreshesOnceTheLeadIsReachedNotBefore) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(RefreshLeadMillis(kLifetime * 1000), kLead * 1000);
  clock_.Set(kNow + kLifetime - kLead - 1);
  EXPECT_TRUE(SumWithCredentials(*session).ok());
  EXPECT_EQ(server_.refresh_calls(), 0);

  clock_.Set(kNow + kLifetime - kLead);
  EXPECT_TRUE(SumWithCredentials(*session).ok());
  EXPECT_EQ(server_.refresh_calls(), 1);
  EXPECT_EQ(server_.authorizations(),
            std::vector<std::string>({"Bearer access-1", "Bearer access-2"}));
  absl::StatusOr<SavedTokens> saved = store_->Load();
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->refresh_token, "tgr_refresh-2");
  EXPECT_EQ(saved->access_expires_at_unix_seconds, kNow + kLifetime - kLead + kLifetime);
  EXPECT_EQ(session->refreshes(), 1);

  // The new token is good for another lifetime minus the lead.
  clock_.Advance(kLifetime - kLead - 1);
  EXPECT_TRUE(session->AccessToken().ok());
  EXPECT_EQ(server_.refresh_calls(), 1);
}

// A token shorter than two minutes is renewed when 10% of it is left: a
// 10-second token after 9 s (refresh_schedule.h).
TEST_F(SessionTest, AShortTokenIsRenewedWhenTenPercentIsLeft) {
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.expires_in = 10;
  }
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  clock_.Advance(8);
  EXPECT_EQ(*session->AccessToken(), "access-1");
  EXPECT_EQ(server_.refresh_calls(), 0);
  clock_.Advance(1);  // 1 s left: 10% of the lifetime
  EXPECT_EQ(*session->AccessToken(), "access-2");
  EXPECT_EQ(server_.refresh_calls(), 1);
}

// Single flight: an expired token makes every caller wait, and one Refresh
// serves them all.
TEST_F(SessionTest, CallersOfAnExpiredTokenWaitForOneRefresh) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  clock_.Advance(kLifetime + 1);
  server_.HoldRefresh();
  constexpr int kThreads = 16;
  std::vector<std::string> tokens(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::string> token = session->AccessToken();
      tokens[i] = token.ok() ? *token : token.status().ToString();
    });
  }
  ASSERT_TRUE(server_.WaitForRefreshCalls(1));
  // Give the other threads time to pile up behind the one Refresh.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server_.ReleaseRefresh();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(tokens, std::vector<std::string>(kThreads, "access-2"));
  EXPECT_EQ(server_.refresh_calls(), 1);
}

// Single flight with a token that is due but still valid: the leader waits
// for the Refresh, every other call goes on with the current token.
TEST_F(SessionTest, WhileOneThreadRefreshesOthersUseTheStillValidToken) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  clock_.Advance(kLifetime - 10);
  server_.HoldRefresh();
  std::string leader_token;
  std::thread leader([&] { leader_token = session->AccessToken().value_or("error"); });
  ASSERT_TRUE(server_.WaitForRefreshCalls(1));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(session->AccessToken().value_or("error"), "access-1");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SumWithCredentials(*session).ok());
  server_.ReleaseRefresh();
  leader.join();
  EXPECT_EQ(leader_token, "access-2");
  EXPECT_EQ(server_.refresh_calls(), 1);
  EXPECT_EQ(*session->AccessToken(), "access-2");
}

// The same through Credentials: calls that must wait run on gRPC's
// credentials threads, and still one Refresh is made.
TEST_F(SessionTest, ConcurrentCallsWithCredentialsShareOneRefresh) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  clock_.Advance(kLifetime + 1);
  constexpr int kThreads = 16;
  constexpr int kCallsPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int call = 0; call < kCallsPerThread; ++call) {
        if (!SumWithCredentials(*session).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server_.refresh_calls(), 1);
  EXPECT_EQ(server_.authorizations(),
            std::vector<std::string>(kThreads * kCallsPerThread, "Bearer access-2"));
}

TEST_F(SessionTest, OnUnauthenticatedRefreshesOnceAndRetriesOnce) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  ForgetAccessToken("access-1");  // as if its key had been rotated out
  int attempts = 0;
  const absl::Status status = SumThroughCall(*session, &attempts);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(server_.authorizations(),
            std::vector<std::string>({"Bearer access-1", "Bearer access-2"}));
  EXPECT_EQ(server_.refresh_calls(), 1);
  EXPECT_EQ(store_->Load()->refresh_token, "tgr_refresh-2");
}

TEST_F(SessionTest, ConcurrentRefusalsOfOneTokenShareOneRefresh) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  ForgetAccessToken("access-1");
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      if (!SumThroughCall(*session).ok()) ++failures;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server_.refresh_calls(), 1);
}

TEST_F(SessionTest, GivesUpAfterTheRetryIsRefusedToo) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  int attempts = 0;
  const absl::Status status = session->Call("GetCurrentUser", [&](grpc::ClientContext&) {
    ++attempts;
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token expired");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "GetCurrentUser: UNAUTHENTICATED: token expired");
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(server_.refresh_calls(), 1);
}

TEST_F(SessionTest, OtherErrorsAreNotRetried) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  int attempts = 0;
  const absl::Status status = session->Call("GetUsage", [&](grpc::ClientContext&) {
    ++attempts;
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "requires role 'admin'");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "GetUsage: PERMISSION_DENIED: requires role 'admin'");
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(server_.refresh_calls(), 0);
}

TEST_F(SessionTest, CallSetsTheDeadlineAndTheAuthorization) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  const absl::Status status = session->Call("Sum", [&](grpc::ClientContext& context) {
    const auto left = context.deadline() - std::chrono::system_clock::now();
    EXPECT_GT(left, std::chrono::seconds(9));
    EXPECT_LE(left, std::chrono::seconds(10));
    sum::v1::SumRequest request;
    sum::v1::SumResponse response;
    return sum_->Sum(&context, request, &response);
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(server_.authorizations(), std::vector<std::string>({"Bearer access-1"}));
}

// The end: a refused refresh token ends the session once; no call reaches a
// server after that, and the callback fires once.
TEST_F(SessionTest, ARefusedRefreshEndsTheSessionOnce) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.reject_refresh = true;
  }
  clock_.Advance(kLifetime - 10);
  int attempts = 0;
  absl::Status status = SumThroughCall(*session, &attempts);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "session ended: Refresh: UNAUTHENTICATED: invalid refresh token");
  EXPECT_TRUE(IsSessionEnded(status));
  EXPECT_EQ(attempts, 0);
  EXPECT_EQ(ended_calls_.load(), 1);
  {
    std::lock_guard<std::mutex> lock(ended_mutex_);
    EXPECT_EQ(ended_reason_, status);
  }
  EXPECT_EQ(session->ended(), status);

  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(SumThroughCall(*session, &attempts), status);
    const grpc::Status with_credentials = SumWithCredentials(*session);
    // gRPC 1.51 reports every credentials failure as UNAVAILABLE.
    EXPECT_EQ(with_credentials.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(with_credentials.error_message().find(
                  "session ended: Refresh: UNAUTHENTICATED: invalid refresh token"),
              std::string::npos)
        << with_credentials.error_message();
    EXPECT_TRUE(IsSessionEnded(with_credentials));
  }
  EXPECT_EQ(attempts, 0);
  EXPECT_EQ(server_.refresh_calls(), 1);
  EXPECT_EQ(server_.sum_calls(), 0);
  EXPECT_EQ(ended_calls_.load(), 1);
  // The store keeps the dead pair; the program decides what to do with it.
  EXPECT_EQ(store_->Load()->refresh_token, "tgr_refresh-1");
}

TEST_F(SessionTest, ARefreshTokenPastItsExpiryEndsTheSessionWithoutACall) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  clock_.Advance(3600);
  const absl::Status status = SumThroughCall(*session);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "session ended: the refresh token expired");
  EXPECT_EQ(server_.refresh_calls(), 0);
  EXPECT_EQ(ended_calls_.load(), 1);
}

TEST_F(SessionTest, AClearedStoreEndsTheSession) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(store_->Clear().ok());
  clock_.Advance(kLifetime - 10);
  const absl::Status status = SumThroughCall(*session);
  EXPECT_EQ(status.message(),
            "session ended: the token store was cleared (logged out elsewhere)");
  EXPECT_EQ(server_.refresh_calls(), 0);
  EXPECT_EQ(ended_calls_.load(), 1);
}

// A Refresh that fails for now: the still-valid token carries on, and the
// next attempts wait 1 s, 2 s, 4 s ...
TEST_F(SessionTest, AFailedRefreshIsRetriedAfterADelayWhileTheTokenCarriesOn) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.refresh_failure =
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "database unavailable");
  }
  clock_.Advance(kLifetime - kLead);
  EXPECT_TRUE(SumThroughCall(*session).ok());
  EXPECT_TRUE(SumWithCredentials(*session).ok());
  EXPECT_EQ(server_.refresh_calls(), 1);
  clock_.Advance(1);
  EXPECT_TRUE(SumThroughCall(*session).ok());
  EXPECT_EQ(server_.refresh_calls(), 2);
  clock_.Advance(1);  // the delay is 2 s now
  EXPECT_TRUE(SumThroughCall(*session).ok());
  EXPECT_EQ(server_.refresh_calls(), 2);
  clock_.Advance(1);
  EXPECT_TRUE(SumThroughCall(*session).ok());
  EXPECT_EQ(server_.refresh_calls(), 3);
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.refresh_failure = grpc::Status::OK;
  }
  clock_.Advance(4);
  EXPECT_TRUE(SumThroughCall(*session).ok());
  EXPECT_EQ(server_.refresh_calls(), 4);
  EXPECT_EQ(server_.authorizations().back(), "Bearer access-2");
  EXPECT_EQ(ended_calls_.load(), 0);
}

TEST_F(SessionTest, WithAnExpiredTokenAFailedRefreshFailsCallsFast) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.refresh_failure =
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "database unavailable");
  }
  clock_.Advance(kLifetime + 1);
  for (int i = 0; i < 3; ++i) {
    const absl::Status status = SumThroughCall(*session);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(status.message(), "Refresh: UNAVAILABLE: database unavailable");
  }
  EXPECT_EQ(server_.refresh_calls(), 1);
  EXPECT_EQ(server_.sum_calls(), 0);
  EXPECT_TRUE(session->ended().ok());
}

TEST_F(SessionTest, ResumeFromARefreshTokenAloneRefreshesFirst) {
  store_ = std::make_shared<InMemoryTokenStore>(SavedTokens::FromRefreshToken(
      server_.state.Issue().refresh_token()));
  absl::StatusOr<std::shared_ptr<Session>> session = Session::Resume(channel_, store_, Options());
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(server_.refresh_calls(), 0);
  EXPECT_TRUE(SumWithCredentials(**session).ok());
  EXPECT_EQ(server_.authorizations(), std::vector<std::string>({"Bearer access-2"}));
  EXPECT_EQ(store_->Load()->access_token, "access-2");
}

// Two Sessions on one store: the second takes the pair the first saved
// instead of spending the refresh token a second time (the server would
// take that for a replayed token and end the session).
TEST_F(SessionTest, APairSavedBySomeoneSharingTheStoreIsUsedInsteadOfSpendingOurs) {
  std::shared_ptr<Session> first = LogIn();
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::shared_ptr<Session>> second = Session::Resume(channel_, store_, Options());
  ASSERT_TRUE(second.ok());
  clock_.Advance(kLifetime - 10);
  EXPECT_EQ(*first->AccessToken(), "access-2");
  EXPECT_EQ(*(*second)->AccessToken(), "access-2");
  EXPECT_EQ(server_.refresh_calls(), 1);
  EXPECT_EQ((*second)->refreshes(), 0);
}

// The same across processes, with the token file: a call refused because
// another process refreshed meanwhile retries with that process's pair.
TEST_F(SessionTest, ARefusedCallTakesThePairAnotherProcessSaved) {
  cli::testing::TempDir dir;
  auto file = std::make_shared<FileTokenStore>(dir.path() + "/tokens.json");
  ASSERT_TRUE(file->Save(SavedTokens::FromAuthResponse(server_.state.Issue(), kNow)).ok());
  absl::StatusOr<std::shared_ptr<Session>> session = Session::Resume(channel_, file, Options());
  ASSERT_TRUE(session.ok()) << session.status();
  int attempts = 0;
  const absl::Status status = (*session)->Call("Sum", [&](grpc::ClientContext& context) {
    ++attempts;
    if (attempts == 1) {
      // Meanwhile another `tollgate` refreshed (spending tgr_refresh-1) and
      // saved pair 2; this call then fails with the old access token.
      EXPECT_TRUE(file->Save(SavedTokens::FromAuthResponse(server_.state.Issue(), kNow)).ok());
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid token: expired");
    }
    sum::v1::SumRequest request;
    sum::v1::SumResponse response;
    return sum_->Sum(&context, request, &response);
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(server_.refresh_calls(), 0);  // tgr_refresh-1 was not presented again
  EXPECT_EQ(server_.authorizations(), std::vector<std::string>({"Bearer access-2"}));
}

TEST_F(SessionTest, RefreshNowSpendsTheRefreshTokenAndSavesThePair) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  absl::StatusOr<auth::v1::AuthResponse> response = session->RefreshNow();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->refresh_token(), "tgr_refresh-2");
  EXPECT_EQ(store_->Load()->refresh_token, "tgr_refresh-2");
  EXPECT_EQ(*session->AccessToken(), "access-2");
}

TEST_F(SessionTest, LogoutRevokesClearsTheStoreAndEndsTheSessionQuietly) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(session->Logout(/*all_sessions=*/true).ok());
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    ASSERT_EQ(server_.state.logouts.size(), 1u);
    EXPECT_EQ(server_.state.logouts[0].refresh_token(), "tgr_refresh-1");
    EXPECT_TRUE(server_.state.logouts[0].all_sessions());
  }
  EXPECT_EQ(store_->Load().status().code(), absl::StatusCode::kNotFound);
  const absl::Status status = SumThroughCall(*session);
  EXPECT_EQ(status.message(), "session ended: logged out");
  EXPECT_EQ(server_.sum_calls(), 0);
  EXPECT_EQ(ended_calls_.load(), 0);
}

TEST_F(SessionTest, AFailedLogoutChangesNothing) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.fail_logout = true;
  }
  const absl::Status status = session->Logout();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "Logout: UNAVAILABLE: database unavailable");
  EXPECT_TRUE(store_->Load().ok());
  EXPECT_TRUE(session->ended().ok());
  EXPECT_TRUE(SumThroughCall(*session).ok());
}

// A store whose Save fails once asked to.
class FailingSaveStore final : public TokenStore {
 public:
  absl::StatusOr<SavedTokens> Load() override { return inner_.Load(); }
  absl::Status Save(const SavedTokens& tokens) override {
    if (fail_saves) return absl::InternalError("disk full");
    return inner_.Save(tokens);
  }
  absl::Status Clear() override { return inner_.Clear(); }
  absl::StatusOr<std::unique_ptr<Lock>> LockForRefresh() override {
    return inner_.LockForRefresh();
  }
  bool fail_saves = false;

 private:
  InMemoryTokenStore inner_;
};

TEST_F(SessionTest, ARefreshedPairThatCannotBeSavedIsReportedAndStillUsed) {
  auto store = std::make_shared<FailingSaveStore>();
  absl::StatusOr<std::shared_ptr<Session>> session =
      Session::Login(channel_, testing::kEmail, testing::kPassword, store, Options());
  ASSERT_TRUE(session.ok());
  store->fail_saves = true;
  clock_.Advance(kLifetime - 10);
  const absl::Status status = SumThroughCall(**session);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(status.message(), "cannot save the refreshed tokens: disk full");
  EXPECT_TRUE(SumThroughCall(**session).ok());
  EXPECT_EQ(server_.authorizations(), std::vector<std::string>({"Bearer access-2"}));
}

TEST_F(SessionTest, CredentialsOutlivingTheirSessionFailTheCall) {
  std::shared_ptr<Session> session = LogIn();
  ASSERT_NE(session, nullptr);
  std::shared_ptr<grpc::CallCredentials> credentials = session->Credentials();
  session.reset();
  grpc::ClientContext context;
  context.set_credentials(credentials);
  sum::v1::SumResponse response;
  const grpc::Status status = sum_->Sum(&context, sum::v1::SumRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("session closed"), std::string::npos);
  EXPECT_EQ(server_.sum_calls(), 0);
}

TEST(RpcFailureTest, FormatsOneLine) {
  EXPECT_EQ(RpcFailure("Login", grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad\nthing"))
                .message(),
            "Login: UNAUTHENTICATED: bad thing");
  EXPECT_EQ(RpcFailure("GetCurrentUser", grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""))
                .message(),
            "GetCurrentUser: UNIMPLEMENTED");
  EXPECT_EQ(RpcFailure("Sum", grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "overflow")).code(),
            absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace tollgate::client
