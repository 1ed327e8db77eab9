#include "client/cli/token_session.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/client/fake_services.h"
#include "tests/client/temp_dir.h"
#include "tests/support/fake_clock.h"

namespace tollgate::cli {
namespace {

using testing::FakeServer;
using testing::TempDir;

constexpr int64_t kNow = 1'800'000'000;
constexpr auto kTimeout = std::chrono::seconds(10);

class TokenSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    ASSERT_FALSE(dir_.path().empty());
    channel_ = grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials());
    auth_ = auth::v1::AuthService::NewStub(channel_);
    sum_ = sum::v1::SumService::NewStub(channel_);
  }

  // Logs in on the fake and saves pair 1, whose access token expires at
  // `expires_at`.
  void SaveLoggedInPair(int64_t expires_at) {
    SavedTokens tokens = SavedTokens::FromAuthResponse(server_.state.Issue(), kNow);
    tokens.access_expires_at_unix_seconds = expires_at;
    ASSERT_TRUE(file_.Save(tokens).ok());
  }

  // Sum(1, 2) through the session.
  absl::Status CallSum(TokenSession& session, int* attempts = nullptr) {
    return session.Call("Sum", [&](grpc::ClientContext& context) {
      if (attempts != nullptr) ++*attempts;
      sum::v1::SumRequest request;
      request.set_a(1);
      request.set_b(2);
      sum::v1::SumResponse response;
      return sum_->Sum(&context, request, &response);
    });
  }

  std::vector<std::string> Authorizations() {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    return server_.state.authorizations;
  }
  int RefreshCalls() {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    return server_.state.refresh_calls;
  }

  FakeServer server_;
  TempDir dir_;
  TokenFile file_{dir_.path() + "/tokens.json"};
  tollgate::testing::FakeClock clock_{kNow};
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<auth::v1::AuthService::Stub> auth_;
  std::unique_ptr<sum::v1::SumService::Stub> sum_;
};

TEST_F(TokenSessionTest, SendsTheSavedAccessTokenWhenItIsNotAboutToExpire) {
  SaveLoggedInPair(kNow + kRefreshBeforeExpirySeconds + 1);
  TokenSession session(file_, *auth_, clock_, kTimeout);
  EXPECT_TRUE(CallSum(session).ok());
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1"}));
  EXPECT_EQ(RefreshCalls(), 0);
}

TEST_F(TokenSessionTest, RefreshesFirstWhenTheAccessTokenExpiresWithin30Seconds) {
  SaveLoggedInPair(kNow + kRefreshBeforeExpirySeconds);
  TokenSession session(file_, *auth_, clock_, kTimeout);
  EXPECT_TRUE(CallSum(session).ok());
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-2"}));
  EXPECT_EQ(RefreshCalls(), 1);
  // The new pair was saved, with its expiry counted from now.
  absl::StatusOr<SavedTokens> saved = file_.Load();
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->access_token, "access-2");
  EXPECT_EQ(saved->refresh_token, "tgr_refresh-2");
  EXPECT_EQ(saved->access_expires_at_unix_seconds, kNow + 900);
  EXPECT_EQ(saved->email, testing::kFakeEmail);
}

TEST_F(TokenSessionTest, RefreshesAnAlreadyExpiredAccessToken) {
  SaveLoggedInPair(kNow - 3600);
  TokenSession session(file_, *auth_, clock_, kTimeout);
  EXPECT_TRUE(CallSum(session).ok());
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-2"}));
}

TEST_F(TokenSessionTest, OnUnauthenticatedRefreshesOnceAndRetriesOnce) {
  SaveLoggedInPair(kNow + 600);
  {
    // The server no longer accepts access-1 (say, its key was rotated out).
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.live_access_tokens.erase("access-1");
  }
  TokenSession session(file_, *auth_, clock_, kTimeout);
  int attempts = 0;
  const absl::Status status = CallSum(session, &attempts);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1", "Bearer access-2"}));
  EXPECT_EQ(RefreshCalls(), 1);
  EXPECT_EQ(file_.Load()->refresh_token, "tgr_refresh-2");
}

TEST_F(TokenSessionTest, GivesUpAfterTheRetryIsRejectedToo) {
  SaveLoggedInPair(kNow + 600);
  TokenSession session(file_, *auth_, clock_, kTimeout);
  int attempts = 0;
  const absl::Status status = session.Call("GetCurrentUser", [&](grpc::ClientContext&) {
    ++attempts;
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token expired");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "GetCurrentUser: UNAUTHENTICATED: token expired");
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(RefreshCalls(), 1);
}

TEST_F(TokenSessionTest, OtherErrorsAreNotRetried) {
  SaveLoggedInPair(kNow + 600);
  TokenSession session(file_, *auth_, clock_, kTimeout);
  int attempts = 0;
  const absl::Status status = session.Call("GetUsage", [&](grpc::ClientContext&) {
    ++attempts;
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "method /tollgate.sum.v1.SumService/GetUsage requires role 'admin'");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "GetUsage: PERMISSION_DENIED: method /tollgate.sum.v1.SumService/GetUsage requires "
            "role 'admin'");
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(RefreshCalls(), 0);
}

TEST_F(TokenSessionTest, AFailedRefreshIsReportedAsRefreshAndTheCallIsNotMade) {
  SaveLoggedInPair(kNow + 5);
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.reject_refresh = true;
  }
  TokenSession session(file_, *auth_, clock_, kTimeout);
  int attempts = 0;
  const absl::Status status = CallSum(session, &attempts);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "Refresh: UNAUTHENTICATED: invalid refresh token");
  EXPECT_EQ(attempts, 0);
  // The saved pair is left as it was.
  EXPECT_EQ(file_.Load()->refresh_token, "tgr_refresh-1");
}

TEST_F(TokenSessionTest, UsesAPairThatAnotherInvocationSavedInsteadOfSpendingItsOwn) {
  SaveLoggedInPair(kNow + 600);
  TokenSession session(file_, *auth_, clock_, kTimeout);
  int attempts = 0;
  const absl::Status status = session.Call("Sum", [&](grpc::ClientContext& context) {
    ++attempts;
    if (attempts == 1) {
      // Meanwhile another `tollgate` refreshed (spending tgr_refresh-1) and
      // saved pair 2; this call then fails with the old access token.
      EXPECT_TRUE(file_.Save(SavedTokens::FromAuthResponse(server_.state.Issue(), kNow)).ok());
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid token: revoked");
    }
    sum::v1::SumRequest request;
    sum::v1::SumResponse response;
    return sum_->Sum(&context, request, &response);
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(RefreshCalls(), 0);  // tgr_refresh-1 was not presented again
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-2"}));
}

TEST_F(TokenSessionTest, NotLoggedIn) {
  TokenSession session(file_, *auth_, clock_, kTimeout);
  const absl::Status status = CallSum(session);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "not logged in: no token file at " + file_.path() + " (run 'tollgate login')");
}

TEST_F(TokenSessionTest, ForceRefreshSpendsTheSavedRefreshToken) {
  SaveLoggedInPair(kNow + 600);
  TokenSession session(file_, *auth_, clock_, kTimeout);
  absl::StatusOr<auth::v1::AuthResponse> response = session.ForceRefresh();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->refresh_token(), "tgr_refresh-2");
  EXPECT_EQ(file_.Load()->refresh_token, "tgr_refresh-2");
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
}  // namespace tollgate::cli
