#include "auth_service/accounts/recovery_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/auth_service/accounts/account_services.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::AccountServices;
using ::tollgate::testing::CodeInMail;
using ::tollgate::testing::HasStatus;
using ::tollgate::testing::kResetTtlSeconds;
using ::tollgate::testing::kTestPassword;

constexpr char kNewPassword[] = "a brand new passphrase";

class RecoveryServiceTest : public ::testing::Test {
 protected:
  absl::StatusOr<DeferredWork> RequestReset(const std::string& email) {
    v1::RequestPasswordResetRequest request;
    request.set_email(email);
    return env_.recovery().RequestPasswordReset(request);
  }
  // Runs the whole reset request and returns the code from its mail.
  std::string ResetCodeFor(const std::string& email) {
    auto work = RequestReset(email);
    EXPECT_TRUE(work.ok()) << work.status();
    if (!work.ok() || !*work) return "";
    (*work)();
    const std::vector<OutgoingMail> mails = env_.db().mails();
    return mails.empty() ? "" : CodeInMail(mails.back().body);
  }
  absl::Status Reset(const std::string& code, const std::string& password = kNewPassword) {
    v1::ResetPasswordRequest request;
    request.set_token(code);
    request.set_new_password(password);
    return env_.recovery().ResetPassword(request);
  }
  bool PasswordIs(const std::string& user_id, const std::string& password) {
    auto matches = env_.hasher().Verify(password, env_.db().User(user_id)->password_hash);
    return matches.ok() && *matches;
  }

  AccountServices env_;
};

// ---- RequestPasswordReset ----

TEST_F(RecoveryServiceTest, RequestPasswordResetRejectsAMalformedEmail) {
  EXPECT_TRUE(HasStatus(RequestReset("nobody").status(), absl::StatusCode::kInvalidArgument,
                        "email: must contain an '@'"));
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(RecoveryServiceTest, RequestPasswordResetForAnUnknownEmailIsOkWithNothingToDo) {
  auto work = RequestReset("nobody@example.com");
  ASSERT_TRUE(work.ok()) << work.status();
  EXPECT_FALSE(static_cast<bool>(*work));
  EXPECT_TRUE(env_.db().mails().empty());
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 0);
}

TEST_F(RecoveryServiceTest, RequestPasswordResetForADeactivatedAccountIsOkWithNothingToDo) {
  env_.AddUser("off@example.com", {"user"}, /*active=*/false);
  auto work = RequestReset("off@example.com");
  ASSERT_TRUE(work.ok()) << work.status();
  EXPECT_FALSE(static_cast<bool>(*work));
  EXPECT_TRUE(env_.db().mails().empty());
}

TEST_F(RecoveryServiceTest, RequestPasswordResetWritesNothingUntilTheDeferredWorkRuns) {
  env_.AddUser("ada@example.com");
  auto work = RequestReset("ADA@example.com");
  ASSERT_TRUE(work.ok()) << work.status();
  ASSERT_TRUE(static_cast<bool>(*work));
  EXPECT_TRUE(env_.db().mails().empty());
  EXPECT_EQ(env_.db().live_codes(), 0u);

  (*work)();
  const std::vector<OutgoingMail> mails = env_.db().mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].to, "ada@example.com");
  EXPECT_EQ(mails[0].subject, "Reset your password");
  EXPECT_TRUE(CodeInMail(mails[0].body).starts_with("tgp_")) << mails[0].body;
  EXPECT_NE(mails[0].body.find("within 30 minutes"), std::string::npos) << mails[0].body;
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 1);
  EXPECT_EQ(env_.db().live_codes(), 1u);
}

TEST_F(RecoveryServiceTest, RequestPasswordResetDuringDatabaseOutageAnswersUnavailable) {
  env_.db().FailNextCall();
  EXPECT_TRUE(HasStatus(RequestReset("ada@example.com").status(), absl::StatusCode::kUnavailable,
                        "database unavailable"));
}

// ---- ResetPassword ----

TEST_F(RecoveryServiceTest, ResetPasswordRejectsATokenOfTheWrongShapeWithoutAStoreCall) {
  const std::string verification_code = "tge_" + std::string(43, 'A');
  for (const std::string& token :
       {std::string(""), std::string("tgp_short"), verification_code, std::string("garbage")}) {
    EXPECT_TRUE(HasStatus(Reset(token), absl::StatusCode::kInvalidArgument,
                          "token: must be a tgp_... code from the mail"))
        << token;
  }
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(RecoveryServiceTest, ResetPasswordRejectsAnUnknownCode) {
  EXPECT_TRUE(HasStatus(Reset("tgp_" + std::string(43, 'A')), absl::StatusCode::kInvalidArgument,
                        "invalid or expired code"));
}

TEST_F(RecoveryServiceTest, ResetPasswordRejectsAnExpiredCode) {
  const UserRecord user = env_.AddUser("ada@example.com");
  const std::string code = ResetCodeFor("ada@example.com");
  ASSERT_FALSE(code.empty());
  env_.clock().Advance(kResetTtlSeconds);
  EXPECT_TRUE(
      HasStatus(Reset(code), absl::StatusCode::kInvalidArgument, "invalid or expired code"));
  EXPECT_TRUE(PasswordIs(user.id, kTestPassword));
}

TEST_F(RecoveryServiceTest, ResetPasswordThatFailsThePolicyKeepsTheCode) {
  const UserRecord user = env_.AddUser("ada@example.com");
  const std::string code = ResetCodeFor("ada@example.com");
  ASSERT_FALSE(code.empty());
  EXPECT_TRUE(HasStatus(Reset(code, "short"), absl::StatusCode::kInvalidArgument,
                        "new_password: must be at least 8 characters"));
  EXPECT_TRUE(HasStatus(Reset(code, "Ada@Example.com"), absl::StatusCode::kInvalidArgument,
                        "new_password: must not be the same as the email"));
  EXPECT_EQ(env_.db().live_codes(), 1u);
  EXPECT_TRUE(Reset(code).ok());
  EXPECT_TRUE(PasswordIs(user.id, kNewPassword));
}

TEST_F(RecoveryServiceTest, ResetPasswordSetsThePasswordRevokesSessionsAndSpendsTheCode) {
  const UserRecord user = env_.AddUser("ada@example.com");
  const std::string code = ResetCodeFor("ada@example.com");
  ASSERT_TRUE(Reset(code).ok());
  EXPECT_TRUE(PasswordIs(user.id, kNewPassword));
  EXPECT_EQ(env_.db().sessions_revoked_for(), std::vector<std::string>{user.id});
  EXPECT_TRUE(HasStatus(Reset(code, "yet another passphrase"), absl::StatusCode::kInvalidArgument,
                        "invalid or expired code"));
  EXPECT_TRUE(PasswordIs(user.id, kNewPassword));
}

TEST_F(RecoveryServiceTest, ANewResetCodeVoidsTheOlderOne) {
  env_.AddUser("ada@example.com");
  const std::string first = ResetCodeFor("ada@example.com");
  const std::string second = ResetCodeFor("ada@example.com");
  ASSERT_NE(first, second);
  EXPECT_TRUE(
      HasStatus(Reset(first), absl::StatusCode::kInvalidArgument, "invalid or expired code"));
  EXPECT_TRUE(Reset(second).ok());
}

// ---- RequestEmailVerification and VerifyEmail ----

TEST_F(RecoveryServiceTest, RequestEmailVerificationOfAVerifiedAccountIsOkAndSendsNothing) {
  const UserRecord user = env_.AddUser("ada@example.com", {"user"}, true, /*verified=*/true);
  EXPECT_TRUE(env_.recovery().RequestEmailVerification(env_.IdentityOf(user)).ok());
  EXPECT_TRUE(env_.db().mails().empty());
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 0);
}

TEST_F(RecoveryServiceTest, RequestEmailVerificationOfADeactivatedAccountIsRefused) {
  const UserRecord user = env_.AddUser("off@example.com", {"user"}, /*active=*/false);
  EXPECT_TRUE(HasStatus(env_.recovery().RequestEmailVerification(env_.IdentityOf(user)),
                        absl::StatusCode::kPermissionDenied, "account is deactivated"));
  EXPECT_TRUE(env_.db().mails().empty());
}

TEST_F(RecoveryServiceTest, VerifyEmailWithTheMailedCodeVerifiesTheAccountOnce) {
  const UserRecord user = env_.AddUser("ada@example.com");
  ASSERT_TRUE(env_.recovery().RequestEmailVerification(env_.IdentityOf(user)).ok());
  const std::vector<OutgoingMail> mails = env_.db().mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].to, "ada@example.com");
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 1);
  const std::string code = CodeInMail(mails[0].body);
  ASSERT_TRUE(code.starts_with("tge_")) << mails[0].body;

  v1::VerifyEmailRequest request;
  request.set_token(code);
  auto verified = env_.recovery().VerifyEmail(request);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->id(), user.id);
  EXPECT_TRUE(verified->is_verified());
  EXPECT_TRUE(HasStatus(env_.recovery().VerifyEmail(request).status(),
                        absl::StatusCode::kInvalidArgument, "invalid or expired code"));
}

TEST_F(RecoveryServiceTest, VerifyEmailRejectsAResetCodeByItsShape) {
  v1::VerifyEmailRequest request;
  request.set_token("tgp_" + std::string(43, 'A'));
  EXPECT_TRUE(HasStatus(env_.recovery().VerifyEmail(request).status(),
                        absl::StatusCode::kInvalidArgument,
                        "token: must be a tge_... code from the mail"));
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(RecoveryServiceTest, VerifyEmailRejectsAnExpiredCode) {
  const UserRecord user = env_.AddUser("ada@example.com");
  ASSERT_TRUE(env_.recovery().RequestEmailVerification(env_.IdentityOf(user)).ok());
  v1::VerifyEmailRequest request;
  request.set_token(CodeInMail(env_.db().mails().at(0).body));
  env_.clock().Advance(::tollgate::testing::kVerifyTtlSeconds);
  EXPECT_TRUE(HasStatus(env_.recovery().VerifyEmail(request).status(),
                        absl::StatusCode::kInvalidArgument, "invalid or expired code"));
  EXPECT_FALSE(env_.db().User(user.id)->is_verified);
}

}  // namespace
}  // namespace tollgate::auth
