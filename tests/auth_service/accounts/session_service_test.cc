#include "auth_service/accounts/session_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth_service/password/login_throttle.h"
#include "tests/auth_service/accounts/account_services.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::AccountServices;
using ::tollgate::testing::HasStatus;
using ::tollgate::testing::kTestPassword;

constexpr char kBadCredentials[] = "invalid email or password";
constexpr char kThrottled[] = "too many failed logins: retry after 30 s";

class SessionServiceTest : public ::testing::Test {
 protected:
  static v1::RegisterRequest RegisterRequest(const std::string& email,
                                             const std::string& password = kTestPassword,
                                             const std::string& first = "Ada",
                                             const std::string& last = "Lovelace") {
    v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(password);
    request.set_first_name(first);
    request.set_last_name(last);
    return request;
  }
  absl::StatusOr<v1::AuthResponse> Login(const std::string& email, const std::string& password,
                                         const std::string& client = "10.0.0.1") {
    v1::LoginRequest request;
    request.set_email(email);
    request.set_password(password);
    return env_.sessions().Login(request, client);
  }
  absl::StatusOr<v1::AuthResponse> Refresh(const std::string& token) {
    v1::RefreshRequest request;
    request.set_refresh_token(token);
    return env_.sessions().Refresh(request);
  }

  AccountServices env_;
};

// ---- Register ----

TEST_F(SessionServiceTest, RegisterCreatesAnAccountAndReturnsATokenPair) {
  auto response = env_.sessions().Register(RegisterRequest("  ada@example.com ", kTestPassword,
                                                           "  Ada ", "Lovelace  "));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->token_type(), "Bearer");
  EXPECT_EQ(response->expires_in(), 900);
  EXPECT_EQ(response->refresh_expires_in(), RefreshLifetimes{}.idle_seconds);
  EXPECT_TRUE(response->refresh_token().starts_with("tgr_"));
  EXPECT_FALSE(response->access_token().empty());
  EXPECT_EQ(response->user().email(), "ada@example.com");
  EXPECT_EQ(response->user().first_name(), "Ada");
  EXPECT_EQ(response->user().last_name(), "Lovelace");
  EXPECT_EQ(std::vector<std::string>(response->user().roles().begin(),
                                     response->user().roles().end()),
            std::vector<std::string>{"user"});
  EXPECT_FALSE(response->user().is_verified());
  EXPECT_EQ(env_.db().session_families(), 1u);
}

TEST_F(SessionServiceTest, RegisterRejectsMalformedEmail) {
  EXPECT_TRUE(HasStatus(env_.sessions().Register(RegisterRequest("ada.example.com")).status(),
                        absl::StatusCode::kInvalidArgument, "email: must contain an '@'"));
  EXPECT_TRUE(HasStatus(env_.sessions().Register(RegisterRequest("")).status(),
                        absl::StatusCode::kInvalidArgument, "email: must not be empty"));
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(SessionServiceTest, RegisterRejectsEmptyOrBlankNames) {
  EXPECT_TRUE(HasStatus(
      env_.sessions().Register(RegisterRequest("ada@example.com", kTestPassword, "  ")).status(),
      absl::StatusCode::kInvalidArgument, "first_name: must not be empty"));
  EXPECT_TRUE(HasStatus(env_.sessions()
                            .Register(RegisterRequest("ada@example.com", kTestPassword, "Ada", ""))
                            .status(),
                        absl::StatusCode::kInvalidArgument, "last_name: must not be empty"));
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(SessionServiceTest, RegisterRejectsPasswordsThePolicyRefuses) {
  EXPECT_TRUE(
      HasStatus(env_.sessions().Register(RegisterRequest("ada@example.com", "short")).status(),
                absl::StatusCode::kInvalidArgument, "password: must be at least 8 characters"));
  EXPECT_TRUE(HasStatus(
      env_.sessions().Register(RegisterRequest("ada@example.com", "ADA@example.com")).status(),
      absl::StatusCode::kInvalidArgument, "password: must not be the same as the email"));
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(SessionServiceTest, RegisterAnswersAlreadyExistsForAnEmailWithTheSameKey) {
  env_.AddUser("ada@example.com");
  EXPECT_TRUE(HasStatus(env_.sessions().Register(RegisterRequest("ADA@Example.com")).status(),
                        absl::StatusCode::kAlreadyExists,
                        "email: an account with this email already exists"));
  EXPECT_EQ(env_.db().session_families(), 0u);
}

TEST_F(SessionServiceTest, RegisterDuringDatabaseOutageAnswersUnavailable) {
  env_.db().FailNextCall();
  EXPECT_TRUE(HasStatus(env_.sessions().Register(RegisterRequest("ada@example.com")).status(),
                        absl::StatusCode::kUnavailable, "database unavailable"));
}

// ---- Login ----

TEST_F(SessionServiceTest, LoginWithTheRightPasswordStartsASession) {
  const UserRecord user = env_.AddUser("ada@example.com");
  auto response = Login("Ada@Example.com", kTestPassword);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->user().id(), user.id);
  EXPECT_EQ(env_.db().session_families(), 1u);
}

TEST_F(SessionServiceTest, LoginAnswersUnknownEmailAndWrongPasswordTheSame) {
  env_.AddUser("ada@example.com");
  const absl::Status wrong_password = Login("ada@example.com", "not the password").status();
  const absl::Status unknown_email = Login("nobody@example.com", kTestPassword).status();
  const absl::Status malformed_email = Login("not an email", kTestPassword).status();
  EXPECT_TRUE(HasStatus(wrong_password, absl::StatusCode::kUnauthenticated, kBadCredentials));
  EXPECT_TRUE(HasStatus(unknown_email, absl::StatusCode::kUnauthenticated, kBadCredentials));
  EXPECT_TRUE(HasStatus(malformed_email, absl::StatusCode::kUnauthenticated, kBadCredentials));
}

TEST_F(SessionServiceTest, CountsEveryRefusedCredentialAsALoginFailure) {
  env_.AddUser("ada@example.com");
  env_.AddUser("grace@example.com", {"user"}, /*active=*/false);
  const auto failures = [this] { return env_.metrics().login_failures_total.Value(); };
  (void)Login("ada@example.com", "not the password");
  EXPECT_EQ(failures(), 1);
  (void)Login("nobody@example.com", kTestPassword);
  EXPECT_EQ(failures(), 2);
  (void)Login("not an email", kTestPassword);
  EXPECT_EQ(failures(), 3);
  // Not failures of the credentials: a success, a deactivated account.
  ASSERT_TRUE(Login("ada@example.com", kTestPassword).ok());
  ASSERT_EQ(Login("grace@example.com", kTestPassword).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(failures(), 3);
}

TEST_F(SessionServiceTest, AThrottledLoginIsNotCountedAsAFailure) {
  for (int i = 0; i < kFreeFailedLogins; ++i) (void)Login("nobody@example.com", "wrong password");
  ASSERT_EQ(env_.metrics().login_failures_total.Value(), kFreeFailedLogins);
  ASSERT_EQ(Login("nobody@example.com", "wrong password").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(env_.metrics().login_failures_total.Value(), kFreeFailedLogins);
}

TEST_F(SessionServiceTest, LoginRefusesDeactivatedAccount) {
  env_.AddUser("ada@example.com", {"user"}, /*active=*/false);
  EXPECT_TRUE(HasStatus(Login("ada@example.com", kTestPassword).status(),
                        absl::StatusCode::kPermissionDenied, "account is deactivated"));
  EXPECT_EQ(env_.db().session_families(), 0u);
}

TEST_F(SessionServiceTest, LoginThrottlesOneClientAddressAfterFiveFailures) {
  env_.AddUser("ada@example.com");
  for (int i = 0; i < kFreeFailedLogins; ++i) {
    EXPECT_TRUE(HasStatus(Login("ada@example.com", "wrong password", "10.0.0.1").status(),
                          absl::StatusCode::kUnauthenticated, kBadCredentials))
        << "failure " << i + 1;
  }
  // Even the right password waits now, from that address...
  EXPECT_TRUE(HasStatus(Login("ada@example.com", kTestPassword, "10.0.0.1").status(),
                        absl::StatusCode::kResourceExhausted, kThrottled));
  // ...while the owner elsewhere still logs in.
  EXPECT_TRUE(Login("ada@example.com", kTestPassword, "10.0.0.2").ok());
}

TEST_F(SessionServiceTest, LoginThrottleCountsDownAndEnds) {
  env_.AddUser("ada@example.com");
  for (int i = 0; i < kFreeFailedLogins; ++i) {
    (void)Login("ada@example.com", "wrong password");
  }
  env_.clock().Advance(10);
  EXPECT_TRUE(HasStatus(Login("ada@example.com", kTestPassword).status(),
                        absl::StatusCode::kResourceExhausted,
                        "too many failed logins: retry after 20 s"));
  env_.clock().Advance(20);
  EXPECT_TRUE(Login("ada@example.com", kTestPassword).ok());
}

TEST_F(SessionServiceTest, LoginThrottlesUnknownEmailsExactlyLikeKnownOnes) {
  for (int i = 0; i < kFreeFailedLogins; ++i) {
    EXPECT_TRUE(HasStatus(Login("nobody@example.com", "wrong password").status(),
                          absl::StatusCode::kUnauthenticated, kBadCredentials));
  }
  EXPECT_TRUE(HasStatus(Login("nobody@example.com", "wrong password").status(),
                        absl::StatusCode::kResourceExhausted, kThrottled));
}

TEST_F(SessionServiceTest, LoginThrottlesTheWholeAccountAfterAHundredFailuresAcrossAddresses) {
  env_.AddUser("ada@example.com");
  // 4 failures from each of 25 addresses: no address reaches its own limit.
  for (int address = 0; address < 25; ++address) {
    for (int i = 0; i < kFreeFailedLogins - 1; ++i) {
      ASSERT_TRUE(HasStatus(
          Login("ada@example.com", "wrong password", "10.1.0." + std::to_string(address)).status(),
          absl::StatusCode::kUnauthenticated, kBadCredentials));
    }
  }
  ASSERT_EQ(25 * (kFreeFailedLogins - 1), kFreeFailedLoginsPerAccount);
  EXPECT_TRUE(HasStatus(Login("ada@example.com", kTestPassword, "10.9.9.9").status(),
                        absl::StatusCode::kResourceExhausted, kThrottled));
}

TEST_F(SessionServiceTest, SuccessfulLoginForgetsTheFailures) {
  env_.AddUser("ada@example.com");
  for (int i = 0; i < kFreeFailedLogins - 1; ++i) (void)Login("ada@example.com", "wrong password");
  ASSERT_TRUE(Login("ada@example.com", kTestPassword).ok());
  // Counting starts again: four more failures are still free.
  for (int i = 0; i < kFreeFailedLogins - 1; ++i) {
    EXPECT_TRUE(HasStatus(Login("ada@example.com", "wrong password").status(),
                          absl::StatusCode::kUnauthenticated, kBadCredentials));
  }
  EXPECT_TRUE(Login("ada@example.com", kTestPassword).ok());
}

TEST_F(SessionServiceTest, LoginDuringDatabaseOutageAnswersUnavailable) {
  env_.AddUser("ada@example.com");
  env_.db().FailNextCall();
  EXPECT_TRUE(HasStatus(Login("ada@example.com", kTestPassword).status(),
                        absl::StatusCode::kUnavailable, "database unavailable"));
}

// ---- Refresh and Logout ----

TEST_F(SessionServiceTest, RefreshRejectsMalformedTokensWithoutAStoreCall) {
  const std::vector<std::string> tokens = {"",          "tgr_", "tgr_short", "not-a-token",
                                           "tgp_" + std::string(43, 'A'),
                                           "tgr_" + std::string(44, 'A')};
  for (const std::string& token : tokens) {
    EXPECT_TRUE(HasStatus(Refresh(token).status(), absl::StatusCode::kUnauthenticated,
                          "invalid refresh token"))
        << token;
  }
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(SessionServiceTest, RefreshRejectsAWellFormedTokenNeverIssued) {
  EXPECT_TRUE(HasStatus(Refresh("tgr_" + std::string(43, 'A')).status(),
                        absl::StatusCode::kUnauthenticated, "invalid refresh token"));
}

TEST_F(SessionServiceTest, RefreshRotatesAndRefusesReuseAfterTheGraceWindow) {
  env_.AddUser("ada@example.com");
  auto login = Login("ada@example.com", kTestPassword);
  ASSERT_TRUE(login.ok()) << login.status();
  auto rotated = Refresh(login->refresh_token());
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->refresh_token(), env_.refresh_codec().Successor(login->refresh_token()));
  env_.clock().Advance(RefreshLifetimes{}.grace_seconds + 1);
  EXPECT_TRUE(HasStatus(Refresh(login->refresh_token()).status(),
                        absl::StatusCode::kUnauthenticated, "invalid refresh token"));
  // Reuse ended the whole session, the successor too.
  EXPECT_TRUE(HasStatus(Refresh(rotated->refresh_token()).status(),
                        absl::StatusCode::kUnauthenticated, "invalid refresh token"));
}

TEST_F(SessionServiceTest, LogoutIgnoresMalformedTokensWithoutAStoreCall) {
  for (const std::string token : {"", "tgr_short", "garbage"}) {
    v1::LogoutRequest request;
    request.set_refresh_token(token);
    EXPECT_TRUE(env_.sessions().Logout(request).ok()) << token;
  }
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(SessionServiceTest, LogoutEndsTheSession) {
  env_.AddUser("ada@example.com");
  auto login = Login("ada@example.com", kTestPassword);
  ASSERT_TRUE(login.ok()) << login.status();
  v1::LogoutRequest request;
  request.set_refresh_token(login->refresh_token());
  ASSERT_TRUE(env_.sessions().Logout(request).ok());
  EXPECT_TRUE(HasStatus(Refresh(login->refresh_token()).status(),
                        absl::StatusCode::kUnauthenticated, "invalid refresh token"));
}

TEST_F(SessionServiceTest, LogoutDuringDatabaseOutageAnswersUnavailable) {
  env_.db().FailNextCall();
  v1::LogoutRequest request;
  request.set_refresh_token("tgr_" + std::string(43, 'A'));
  EXPECT_TRUE(HasStatus(env_.sessions().Logout(request), absl::StatusCode::kUnavailable,
                        "database unavailable"));
}

}  // namespace
}  // namespace tollgate::auth
