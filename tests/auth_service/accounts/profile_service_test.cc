#include "auth_service/accounts/profile_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/auth_service/accounts/account_services.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::AccountServices;
using ::tollgate::testing::CodeInMail;
using ::tollgate::testing::HasStatus;
using ::tollgate::testing::kTestPassword;

class ProfileServiceTest : public ::testing::Test {
 protected:
  ProfileServiceTest() : user_(env_.AddUser("ada@example.com", {"user"}, true, true)) {}

  absl::StatusOr<v1::AuthResponse> ChangePassword(const std::string& current,
                                                  const std::string& next) {
    v1::ChangePasswordRequest request;
    request.set_current_password(current);
    request.set_new_password(next);
    return env_.profiles().ChangePassword(env_.IdentityOf(user_), request);
  }

  AccountServices env_;
  UserRecord user_;
};

// ---- GetCurrentUser ----

TEST_F(ProfileServiceTest, GetCurrentUserReturnsTheCallersAccountWithoutItsHash) {
  auto user = env_.profiles().GetCurrentUser(env_.IdentityOf(user_));
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->id(), user_.id);
  EXPECT_EQ(user->email(), "ada@example.com");
  EXPECT_TRUE(user->is_verified());
  EXPECT_EQ(user->DebugString().find("argon2"), std::string::npos);
}

TEST_F(ProfileServiceTest, GetCurrentUserRefusesADeactivatedAccount) {
  const UserRecord off = env_.AddUser("off@example.com", {"user"}, /*active=*/false);
  EXPECT_TRUE(HasStatus(env_.profiles().GetCurrentUser(env_.IdentityOf(off)).status(),
                        absl::StatusCode::kPermissionDenied, "account is deactivated"));
}

TEST_F(ProfileServiceTest, GetCurrentUserOfADeletedAccountIsNotFound) {
  UserRecord ghost = user_;
  ghost.id = "00000000-0000-4000-8000-0000deadbeef";
  EXPECT_TRUE(HasStatus(env_.profiles().GetCurrentUser(env_.IdentityOf(ghost)).status(),
                        absl::StatusCode::kNotFound, "user not found"));
}

TEST_F(ProfileServiceTest, GetCurrentUserDuringDatabaseOutageAnswersUnavailable) {
  const Identity caller = env_.IdentityOf(user_);
  env_.db().FailNextCall();
  EXPECT_TRUE(HasStatus(env_.profiles().GetCurrentUser(caller).status(),
                        absl::StatusCode::kUnavailable, "database unavailable"));
}

// ---- UpdateProfile ----

TEST_F(ProfileServiceTest, UpdateProfileChangesOnlyTheSetFieldsAndTrimsNames) {
  env_.clock().Advance(60);
  v1::UpdateProfileRequest request;
  request.set_first_name("  Augusta \t");
  auto user = env_.profiles().UpdateProfile(env_.IdentityOf(user_), request);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->first_name(), "Augusta");
  EXPECT_EQ(user->last_name(), "Lovelace");
  EXPECT_EQ(user->email(), "ada@example.com");
  EXPECT_TRUE(user->is_verified());
  EXPECT_EQ(user->updated_at().seconds(), env_.clock().NowUnixSeconds());
  EXPECT_TRUE(env_.db().mails().empty());
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 0);
}

TEST_F(ProfileServiceTest, UpdateProfileRejectsABlankNameBeforeAnyStoreCall) {
  v1::UpdateProfileRequest request;
  request.set_last_name("   ");
  const Identity caller = env_.IdentityOf(user_);
  const int calls = env_.db().calls();
  EXPECT_TRUE(HasStatus(env_.profiles().UpdateProfile(caller, request).status(),
                        absl::StatusCode::kInvalidArgument, "last_name: must not be empty"));
  EXPECT_EQ(env_.db().calls(), calls);
}

TEST_F(ProfileServiceTest, UpdateProfileRejectsAMalformedEmail) {
  v1::UpdateProfileRequest request;
  request.set_email("ada@example");
  EXPECT_TRUE(HasStatus(env_.profiles().UpdateProfile(env_.IdentityOf(user_), request).status(),
                        absl::StatusCode::kInvalidArgument,
                        "email: the domain must contain a dot, as in example.com"));
}

TEST_F(ProfileServiceTest, EmailChangeClearsVerificationAndQueuesTwoMails) {
  v1::UpdateProfileRequest request;
  request.set_email(" augusta@example.org ");
  auto user = env_.profiles().UpdateProfile(env_.IdentityOf(user_), request);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->email(), "augusta@example.org");
  EXPECT_FALSE(user->is_verified());

  const std::vector<OutgoingMail> mails = env_.db().mails();
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[0].to, "augusta@example.org");
  EXPECT_EQ(mails[0].subject, "Verify your email address");
  EXPECT_TRUE(CodeInMail(mails[0].body).starts_with("tge_")) << mails[0].body;
  EXPECT_EQ(mails[1].to, "ada@example.com");
  EXPECT_EQ(mails[1].subject, "Your account's email address was changed");
  EXPECT_EQ(CodeInMail(mails[1].body), "") << mails[1].body;
  EXPECT_EQ(mails[1].body.find("tge_"), std::string::npos);
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 1);
  EXPECT_EQ(env_.db().live_codes(), 1u);

  // The code in the mail verifies the new address.
  v1::VerifyEmailRequest verify;
  verify.set_token(CodeInMail(mails[0].body));
  auto verified = env_.recovery().VerifyEmail(verify);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->is_verified());
}

TEST_F(ProfileServiceTest, EmailChangeToATakenAddressIsAlreadyExistsAndSendsNothing) {
  env_.AddUser("grace@example.com");
  v1::UpdateProfileRequest request;
  request.set_email("GRACE@example.com");
  request.set_first_name("Grace");
  EXPECT_TRUE(HasStatus(env_.profiles().UpdateProfile(env_.IdentityOf(user_), request).status(),
                        absl::StatusCode::kAlreadyExists,
                        "email: an account with this email already exists"));
  EXPECT_TRUE(env_.db().mails().empty());
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 0);
  EXPECT_EQ(env_.db().User(user_.id)->first_name, "Ada");  // nothing half written
}

TEST_F(ProfileServiceTest, SettingTheSameEmailChangesNothingAndSendsNothing) {
  v1::UpdateProfileRequest request;
  request.set_email("ada@example.com");
  auto user = env_.profiles().UpdateProfile(env_.IdentityOf(user_), request);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_TRUE(user->is_verified());
  EXPECT_TRUE(env_.db().mails().empty());
}

TEST_F(ProfileServiceTest, ACaseOnlyEmailChangeKeepsVerificationAndSendsNothing) {
  v1::UpdateProfileRequest request;
  request.set_email("Ada@Example.com");
  auto user = env_.profiles().UpdateProfile(env_.IdentityOf(user_), request);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->email(), "Ada@Example.com");
  EXPECT_TRUE(user->is_verified());
  EXPECT_TRUE(env_.db().mails().empty());
  EXPECT_EQ(env_.db().live_codes(), 0u);
}

// ---- ChangePassword ----

TEST_F(ProfileServiceTest, ChangePasswordRefusesAWrongCurrentPassword) {
  EXPECT_TRUE(HasStatus(ChangePassword("not my password", "a new long passphrase").status(),
                        absl::StatusCode::kPermissionDenied, "current_password: does not match"));
  EXPECT_TRUE(env_.db().sessions_revoked_for().empty());
}

TEST_F(ProfileServiceTest, ChangePasswordRefusesANewPasswordThePolicyRefuses) {
  EXPECT_TRUE(HasStatus(ChangePassword(kTestPassword, "short").status(),
                        absl::StatusCode::kInvalidArgument,
                        "new_password: must be at least 8 characters"));
  EXPECT_TRUE(HasStatus(ChangePassword(kTestPassword, "ada@example.com").status(),
                        absl::StatusCode::kInvalidArgument,
                        "new_password: must not be the same as the email"));
  EXPECT_TRUE(env_.db().sessions_revoked_for().empty());
}

TEST_F(ProfileServiceTest, ChangePasswordRevokesEverySessionAndReturnsAFreshPair) {
  auto response = ChangePassword(kTestPassword, "a new long passphrase");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->refresh_token().starts_with("tgr_"));
  EXPECT_FALSE(response->access_token().empty());
  EXPECT_EQ(response->user().id(), user_.id);
  EXPECT_EQ(env_.db().sessions_revoked_for(), std::vector<std::string>{user_.id});
  EXPECT_EQ(env_.db().session_families(), 1u);  // the fresh one
  auto matches = env_.hasher().Verify("a new long passphrase",
                                      env_.db().User(user_.id)->password_hash);
  ASSERT_TRUE(matches.ok());
  EXPECT_TRUE(*matches);
}

TEST_F(ProfileServiceTest, ChangePasswordOfADeactivatedAccountIsRefused) {
  const UserRecord off = env_.AddUser("off@example.com", {"user"}, /*active=*/false);
  v1::ChangePasswordRequest request;
  request.set_current_password(kTestPassword);
  request.set_new_password("a new long passphrase");
  EXPECT_TRUE(HasStatus(env_.profiles().ChangePassword(env_.IdentityOf(off), request).status(),
                        absl::StatusCode::kPermissionDenied, "account is deactivated"));
}

}  // namespace
}  // namespace tollgate::auth
