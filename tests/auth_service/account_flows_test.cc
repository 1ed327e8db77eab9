// AuthService's account flows end to end in one process: the real gRPC
// server on 127.0.0.1:0, a real PostgreSQL cluster and a real SMTP server
// (aiosmtpd) started by the test, an injected clock. Profile, password
// change and reset, email verification by mail, administration, and the
// login throttle keyed by account and client address.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth_service/auth_server.h"
#include "tests/auth_service/in_process_auth_server.h"
#include "tests/support/fake_clock.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/smtp_sink.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {
namespace {

using grpc::StatusCode;
using v1::AuthResponse;

constexpr char kPassword[] = "correct horse battery staple";
constexpr char kNewPassword[] = "a whole new passphrase";
constexpr char kAdminEmail[] = "root@example.com";
constexpr char kAdminPassword[] = "admin passphrase 1";

bool SentTo(const testing::SinkMessage& message, const std::string& address) {
  return message.rcpt_to.size() == 1 && message.rcpt_to[0] == address;
}

class AccountFlowsTest : public InProcessAuthServerSuite {
 protected:
  static void SetUpTestSuite() {
    PostgresSuite::SetUpTestSuite();
    auto sink = testing::SmtpSink::Start();
    if (sink.ok()) {
      sink_ = *std::move(sink);
    } else {
      sink_status_ = sink.status();
    }
  }
  static void TearDownTestSuite() {
    sink_.reset();
    PostgresSuite::TearDownTestSuite();
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    ASSERT_NE(sink_, nullptr) << "the SMTP sink did not start: " << sink_status_;
    config_ = TestAuthConfig(cluster_->url());
    config_.grantable_roles = {"user", "admin", "auditor"};
    config_.trusted_proxies = "127.0.0.1";
    config_.smtp_url = sink_->url();
    config_.mail_link_base = "https://app.example.com/account?code=";
    config_.bootstrap_admin_email = kAdminEmail;
    config_.bootstrap_admin_password = kAdminPassword;
    StartServer();
  }



  static void ExpectStatus(const grpc::Status& status, StatusCode code,
                           const std::string& message) {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_EQ(status.error_message(), message);
  }

  // Calls `method` on the stub with an optional bearer token and metadata.
  template <typename Request, typename Response, typename Method>
  grpc::Status Call(Method method, const Request& request, Response* response,
                    const std::string& access_token = "",
                    const std::multimap<std::string, std::string>& metadata = {}) {
    grpc::ClientContext context;
    if (!access_token.empty()) context.AddMetadata("authorization", "Bearer " + access_token);
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
    return (stub_.get()->*method)(&context, request, response);
  }

  AuthResponse RegisterOrDie(const std::string& email) {
    v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    request.set_first_name("Ada");
    request.set_last_name("Lovelace");
    AuthResponse response;
    const grpc::Status status = Call(&v1::AuthService::Stub::Register, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  grpc::Status Login(const std::string& email, const std::string& password, AuthResponse* response,
                     const std::string& forwarded_for = "") {
    v1::LoginRequest request;
    request.set_email(email);
    request.set_password(password);
    std::multimap<std::string, std::string> metadata;
    if (!forwarded_for.empty()) metadata.emplace("x-forwarded-for", forwarded_for);
    return Call(&v1::AuthService::Stub::Login, request, response, "", metadata);
  }
  grpc::Status Refresh(const std::string& token, AuthResponse* response) {
    v1::RefreshRequest request;
    request.set_refresh_token(token);
    return Call(&v1::AuthService::Stub::Refresh, request, response);
  }
  std::string AdminToken() {
    AuthResponse response;
    const grpc::Status status = Login(kAdminEmail, kAdminPassword, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.access_token();
  }
  grpc::Status RequestReset(const std::string& email) {
    v1::RequestPasswordResetRequest request;
    request.set_email(email);
    v1::RequestPasswordResetResponse response;
    return Call(&v1::AuthService::Stub::RequestPasswordReset, request, &response);
  }
  grpc::Status Reset(const std::string& code, const std::string& password) {
    v1::ResetPasswordRequest request;
    request.set_token(code);
    request.set_new_password(password);
    v1::ResetPasswordResponse response;
    return Call(&v1::AuthService::Stub::ResetPassword, request, &response);
  }
  grpc::Status Verify(const std::string& code, v1::User* user) {
    v1::VerifyEmailRequest request;
    request.set_token(code);
    return Call(&v1::AuthService::Stub::VerifyEmail, request, user);
  }
  grpc::Status RequestVerification(const std::string& access_token) {
    v1::RequestEmailVerificationResponse response;
    return Call(&v1::AuthService::Stub::RequestEmailVerification,
                v1::RequestEmailVerificationRequest(), &response, access_token);
  }
  grpc::Status SetActive(const std::string& admin_token, const std::string& user_id, bool active,
                         v1::User* user) {
    v1::SetUserActiveRequest request;
    request.set_user_id(user_id);
    request.set_active(active);
    return Call(&v1::AuthService::Stub::SetUserActive, request, user, admin_token);
  }
  grpc::Status SetRoles(const std::string& admin_token, const std::string& user_id,
                        const std::vector<std::string>& roles, v1::User* user) {
    v1::SetUserRolesRequest request;
    request.set_user_id(user_id);
    for (const auto& role : roles) request.add_roles(role);
    return Call(&v1::AuthService::Stub::SetUserRoles, request, user, admin_token);
  }

  // The mails to `address` received so far, waiting up to `wait` for
  // `count`. Checks that no further mail came wait less: the sender is
  // woken at once, so 2 s is plenty for a mail that was queued.
  std::vector<testing::SinkMessage> MailTo(const std::string& address, size_t count,
                                           std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    std::vector<testing::SinkMessage> to_address;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    do {
      to_address.clear();
      for (const auto& message : sink_->Messages()) {
        if (SentTo(message, address)) to_address.push_back(message);
      }
      if (to_address.size() >= count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return to_address;
  }
  // The code in the `index`-th mail to `address` (waiting for it).
  std::string CodeMailedTo(const std::string& address, const std::string& prefix,
                           size_t index = 0) {
    const auto mails = MailTo(address, index + 1);
    if (mails.size() <= index) return "";
    return testing::CodeOnItsOwnLine(mails[index].raw, prefix);
  }
  int64_t PendingMail() {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    return txn.exec1("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL")[0].as<int64_t>();
  }

  static inline std::unique_ptr<testing::SmtpSink> sink_;
  static inline absl::Status sink_status_;
};

// --- Password reset ---------------------------------------------------------

TEST_F(AccountFlowsTest, ResetMailCarriesACodeThatWorksOnceAndEndsEverySession) {
  const std::string email = NewEmail();
  const AuthResponse before = RegisterOrDie(email);

  ASSERT_TRUE(RequestReset(email).ok());
  const auto mails = MailTo(email, 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].raw.find("Subject: Reset your password"), std::string::npos);
  const std::string code = testing::CodeOnItsOwnLine(mails[0].raw, "tgp_");
  ASSERT_EQ(code.size(), 4u + 43u) << mails[0].raw;
  // The link is the base with the code appended.
  EXPECT_NE(mails[0].raw.find("https://app.example.com/account?code=" + code), std::string::npos);
  // Only its SHA-256 is stored.
  {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    EXPECT_EQ(txn.exec_params1("SELECT count(*) FROM one_time_codes "
                               "WHERE code_hash = sha256(convert_to($1, 'UTF8'))",
                               code)[0]
                  .as<int>(),
              1);
  }

  ASSERT_TRUE(Reset(code, kNewPassword).ok());
  // The session from before the reset is over; the new password logs in.
  AuthResponse unused;
  ExpectStatus(Refresh(before.refresh_token(), &unused), StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
  ExpectStatus(Login(email, kPassword, &unused), StatusCode::UNAUTHENTICATED,
               "invalid email or password");
  EXPECT_TRUE(Login(email, kNewPassword, &unused).ok());
  // Single use.
  ExpectStatus(Reset(code, "yet another passphrase"), StatusCode::INVALID_ARGUMENT,
               "invalid or expired code");
}

TEST_F(AccountFlowsTest, ResetCodeExpiresAfterItsLifetime) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  ASSERT_TRUE(RequestReset(email).ok());
  const std::string code = CodeMailedTo(email, "tgp_");
  ASSERT_FALSE(code.empty());
  clock_.Advance(config_.reset_ttl_seconds);
  ExpectStatus(Reset(code, kNewPassword), StatusCode::INVALID_ARGUMENT, "invalid or expired code");
}

TEST_F(AccountFlowsTest, ResetIsOkForUnknownEmailsAndSendsNothing) {
  const std::string unknown = NewEmail();
  ASSERT_TRUE(RequestReset(unknown).ok());
  // A known account's mail, queued after, arrives; the unknown got none.
  const std::string known = NewEmail();
  RegisterOrDie(known);
  ASSERT_TRUE(RequestReset(known).ok());
  ASSERT_EQ(MailTo(known, 1).size(), 1u);
  EXPECT_TRUE(MailTo(unknown, 0).empty());
  ExpectStatus(RequestReset("not-an-email"), StatusCode::INVALID_ARGUMENT,
               "email: must contain an '@'");
}

TEST_F(AccountFlowsTest, ANewerCodeVoidsTheOlderOne) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  ASSERT_TRUE(RequestReset(email).ok());
  const std::string first = CodeMailedTo(email, "tgp_", 0);
  ASSERT_TRUE(RequestReset(email).ok());
  const std::string second = CodeMailedTo(email, "tgp_", 1);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);
  ExpectStatus(Reset(first, kNewPassword), StatusCode::INVALID_ARGUMENT, "invalid or expired code");
  EXPECT_TRUE(Reset(second, kNewPassword).ok());
}

TEST_F(AccountFlowsTest, AWeakNewPasswordKeepsTheCode) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  ASSERT_TRUE(RequestReset(email).ok());
  const std::string code = CodeMailedTo(email, "tgp_");
  ExpectStatus(Reset(code, "short"), StatusCode::INVALID_ARGUMENT,
               "new_password: must be at least 8 characters");
  EXPECT_TRUE(Reset(code, kNewPassword).ok());
}

TEST_F(AccountFlowsTest, MalformedCodesAreRefusedByShape) {
  ExpectStatus(Reset("tgr_" + std::string(43, 'A'), kNewPassword), StatusCode::INVALID_ARGUMENT,
               "token: must be a tgp_... code from the mail");
  v1::User user;
  ExpectStatus(Verify("tgp_" + std::string(43, 'A'), &user), StatusCode::INVALID_ARGUMENT,
               "token: must be a tge_... code from the mail");
  // Well-formed but never issued.
  ExpectStatus(Reset("tgp_" + std::string(42, 'A') + "A", kNewPassword),
               StatusCode::INVALID_ARGUMENT, "invalid or expired code");
}

TEST_F(AccountFlowsTest, ResetClearsTheLoginBackoff) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  AuthResponse unused;
  for (int i = 0; i < 5; ++i) Login(email, "wrong password!", &unused);
  ExpectStatus(Login(email, kPassword, &unused), StatusCode::RESOURCE_EXHAUSTED,
               "too many failed logins: retry after 30 s");
  ASSERT_TRUE(RequestReset(email).ok());
  ASSERT_TRUE(Reset(CodeMailedTo(email, "tgp_"), kNewPassword).ok());
  EXPECT_TRUE(Login(email, kNewPassword, &unused).ok());
}

// --- Email verification ----------------------------------------------------

TEST_F(AccountFlowsTest, VerificationMailMarksTheAccountVerifiedOnce) {
  const std::string email = NewEmail();
  const AuthResponse session = RegisterOrDie(email);
  EXPECT_FALSE(session.user().is_verified());
  ASSERT_TRUE(RequestVerification(session.access_token()).ok());
  const std::string code = CodeMailedTo(email, "tge_");
  ASSERT_FALSE(code.empty());

  v1::User user;
  ASSERT_TRUE(Verify(code, &user).ok());
  EXPECT_TRUE(user.is_verified());
  EXPECT_EQ(user.email(), email);
  ExpectStatus(Verify(code, &user), StatusCode::INVALID_ARGUMENT, "invalid or expired code");

  // Already verified: OK and no further mail.
  ASSERT_TRUE(RequestVerification(session.access_token()).ok());
  RegisterOrDie(NewEmail());  // something else happens meanwhile
  EXPECT_EQ(MailTo(email, 2, std::chrono::seconds(2)).size(), 1u);
}

TEST_F(AccountFlowsTest, VerificationCodeExpiresAfterItsLifetime) {
  const std::string email = NewEmail();
  const AuthResponse session = RegisterOrDie(email);
  ASSERT_TRUE(RequestVerification(session.access_token()).ok());
  const std::string code = CodeMailedTo(email, "tge_");
  clock_.Advance(config_.verify_ttl_seconds);
  v1::User user;
  ExpectStatus(Verify(code, &user), StatusCode::INVALID_ARGUMENT, "invalid or expired code");
}

// --- Profile ---------------------------------------------------------------

TEST_F(AccountFlowsTest, GetCurrentUserAndUpdateProfileChangeOnlyTheSetFields) {
  const AuthResponse session = RegisterOrDie(NewEmail());
  v1::User me;
  ASSERT_TRUE(Call(&v1::AuthService::Stub::GetCurrentUser, v1::GetCurrentUserRequest(), &me,
                   session.access_token())
                  .ok());
  EXPECT_EQ(me.id(), session.user().id());
  EXPECT_EQ(me.first_name(), "Ada");

  v1::UpdateProfileRequest request;
  request.set_last_name("  Byron ");
  v1::User updated;
  ASSERT_TRUE(
      Call(&v1::AuthService::Stub::UpdateProfile, request, &updated, session.access_token()).ok());
  EXPECT_EQ(updated.first_name(), "Ada");
  EXPECT_EQ(updated.last_name(), "Byron");
  EXPECT_EQ(updated.email(), me.email());

  v1::UpdateProfileRequest bad;
  bad.set_first_name(std::string(101, 'a'));
  ExpectStatus(Call(&v1::AuthService::Stub::UpdateProfile, bad, &updated, session.access_token()),
               StatusCode::INVALID_ARGUMENT, "first_name: must be at most 100 characters");
  bad.set_first_name("");
  ExpectStatus(Call(&v1::AuthService::Stub::UpdateProfile, bad, &updated, session.access_token()),
               StatusCode::INVALID_ARGUMENT, "first_name: must not be empty");
}

TEST_F(AccountFlowsTest, EmailChangeUnverifiesMailsBothAddressesAndRefusesATakenOne) {
  const std::string old_email = NewEmail();
  const AuthResponse session = RegisterOrDie(old_email);
  // Verified first, so the change visibly clears it.
  ASSERT_TRUE(RequestVerification(session.access_token()).ok());
  v1::User user;
  ASSERT_TRUE(Verify(CodeMailedTo(old_email, "tge_"), &user).ok());
  ASSERT_TRUE(user.is_verified());

  const std::string taken = NewEmail();
  RegisterOrDie(taken);
  v1::UpdateProfileRequest request;
  request.set_email(taken);
  ExpectStatus(
      Call(&v1::AuthService::Stub::UpdateProfile, request, &user, session.access_token()),
      StatusCode::ALREADY_EXISTS, "email: an account with this email already exists");

  const std::string new_email = NewEmail();
  request.set_email(new_email);
  ASSERT_TRUE(
      Call(&v1::AuthService::Stub::UpdateProfile, request, &user, session.access_token()).ok());
  EXPECT_EQ(user.email(), new_email);
  EXPECT_FALSE(user.is_verified());
  // A notice to the old address (second mail there), a code to the new one.
  const auto old_mails = MailTo(old_email, 2);
  ASSERT_EQ(old_mails.size(), 2u);
  EXPECT_NE(old_mails[1].raw.find("was changed"), std::string::npos);
  EXPECT_EQ(testing::CodeOnItsOwnLine(old_mails[1].raw, "tge_"), "");
  ASSERT_TRUE(Verify(CodeMailedTo(new_email, "tge_"), &user).ok());
  EXPECT_TRUE(user.is_verified());
  // The new address logs in; the old one no longer does.
  AuthResponse unused;
  EXPECT_TRUE(Login(new_email, kPassword, &unused).ok());
  ExpectStatus(Login(old_email, kPassword, &unused), StatusCode::UNAUTHENTICATED,
               "invalid email or password");
}

TEST_F(AccountFlowsTest, ACaseOnlyEmailChangeKeepsVerificationAndSendsNoMail) {
  const std::string email = NewEmail();
  const AuthResponse session = RegisterOrDie(email);
  ASSERT_TRUE(RequestVerification(session.access_token()).ok());
  v1::User user;
  ASSERT_TRUE(Verify(CodeMailedTo(email, "tge_"), &user).ok());
  v1::UpdateProfileRequest request;
  std::string shouted = email;
  for (char& c : shouted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  request.set_email(shouted);
  ASSERT_TRUE(
      Call(&v1::AuthService::Stub::UpdateProfile, request, &user, session.access_token()).ok());
  EXPECT_EQ(user.email(), shouted);
  EXPECT_TRUE(user.is_verified());
  AuthResponse unused;
  EXPECT_TRUE(Login(email, kPassword, &unused).ok());
  RegisterOrDie(NewEmail());  // something else happens meanwhile
  EXPECT_EQ(MailTo(email, 2, std::chrono::seconds(2)).size(), 1u);  // only the first mail
  EXPECT_TRUE(MailTo(shouted, 0).empty());
}

TEST_F(AccountFlowsTest, ChangePasswordNeedsTheCurrentOneAndEndsOtherSessions) {
  const std::string email = NewEmail();
  const AuthResponse first = RegisterOrDie(email);
  AuthResponse second;
  ASSERT_TRUE(Login(email, kPassword, &second).ok());

  v1::ChangePasswordRequest request;
  request.set_current_password("not my password");
  request.set_new_password(kNewPassword);
  AuthResponse fresh;
  ExpectStatus(
      Call(&v1::AuthService::Stub::ChangePassword, request, &fresh, first.access_token()),
      StatusCode::PERMISSION_DENIED, "current_password: does not match");
  request.set_current_password(kPassword);
  request.set_new_password("password");
  ExpectStatus(
      Call(&v1::AuthService::Stub::ChangePassword, request, &fresh, first.access_token()),
      StatusCode::INVALID_ARGUMENT, "new_password: is one of the most common passwords, choose another");

  request.set_new_password(kNewPassword);
  ASSERT_TRUE(
      Call(&v1::AuthService::Stub::ChangePassword, request, &fresh, first.access_token()).ok());
  EXPECT_EQ(fresh.token_type(), "Bearer");
  AuthResponse unused;
  ExpectStatus(Refresh(first.refresh_token(), &unused), StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
  ExpectStatus(Refresh(second.refresh_token(), &unused), StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
  EXPECT_TRUE(Refresh(fresh.refresh_token(), &unused).ok());
  EXPECT_TRUE(Login(email, kNewPassword, &unused).ok());
}

// --- Administration --------------------------------------------------------

TEST_F(AccountFlowsTest, DeactivationEndsSessionsAndReactivationRestoresLogin) {
  const std::string admin = AdminToken();
  const std::string email = NewEmail();
  const AuthResponse session = RegisterOrDie(email);
  v1::User user;
  ASSERT_TRUE(SetActive(admin, session.user().id(), false, &user).ok());
  EXPECT_FALSE(user.is_active());
  AuthResponse unused;
  ExpectStatus(Login(email, kPassword, &unused), StatusCode::PERMISSION_DENIED,
               "account is deactivated");
  ExpectStatus(Refresh(session.refresh_token(), &unused), StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
  // A deactivated account's access token reads nothing.
  ExpectStatus(Call(&v1::AuthService::Stub::GetCurrentUser, v1::GetCurrentUserRequest(), &user,
                    session.access_token()),
               StatusCode::PERMISSION_DENIED, "account is deactivated");
  // Reset mail goes only to active accounts.
  ASSERT_TRUE(RequestReset(email).ok());

  ASSERT_TRUE(SetActive(admin, session.user().id(), true, &user).ok());
  EXPECT_TRUE(user.is_active());
  EXPECT_TRUE(Login(email, kPassword, &unused).ok());
  // The refresh token revoked at deactivation stays revoked.
  ExpectStatus(Refresh(session.refresh_token(), &unused), StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
  EXPECT_TRUE(MailTo(email, 0).empty());
}

TEST_F(AccountFlowsTest, RolesComeFromTheConfiguredSet) {
  const std::string admin = AdminToken();
  const AuthResponse session = RegisterOrDie(NewEmail());
  v1::User user;
  ASSERT_TRUE(SetRoles(admin, session.user().id(), {"user", "auditor", "user"}, &user).ok());
  EXPECT_EQ(std::vector<std::string>(user.roles().begin(), user.roles().end()),
            (std::vector<std::string>{"auditor", "user"}));
  ExpectStatus(SetRoles(admin, session.user().id(), {"user", "superuser"}, &user),
               StatusCode::INVALID_ARGUMENT, "roles: unknown role (allowed: admin, auditor, user)");
  // The new roles are in the next access token.
  AuthResponse refreshed;
  ASSERT_TRUE(Refresh(session.refresh_token(), &refreshed).ok());
  EXPECT_EQ(std::vector<std::string>(refreshed.user().roles().begin(),
                                     refreshed.user().roles().end()),
            (std::vector<std::string>{"auditor", "user"}));
}

TEST_F(AccountFlowsTest, UnknownAndMalformedUserIds) {
  const std::string admin = AdminToken();
  v1::User user;
  ExpectStatus(SetActive(admin, "00000000-0000-0000-0000-000000000000", false, &user),
               StatusCode::NOT_FOUND, "user not found");
  ExpectStatus(SetRoles(admin, "00000000-0000-0000-0000-000000000000", {"user"}, &user),
               StatusCode::NOT_FOUND, "user not found");
  ExpectStatus(SetActive(admin, "not-a-uuid", false, &user), StatusCode::INVALID_ARGUMENT,
               "user_id: must be a UUID");
  ExpectStatus(SetRoles(admin, "'; DROP TABLE users; --", {"user"}, &user),
               StatusCode::INVALID_ARGUMENT, "user_id: must be a UUID");
}

TEST_F(AccountFlowsTest, TheLastActiveAdminCannotBeDemotedOrDeactivated) {
  const std::string admin = AdminToken();
  v1::ListUsersRequest list;
  list.set_page_size(500);
  v1::ListUsersResponse page;
  ASSERT_TRUE(Call(&v1::AuthService::Stub::ListUsers, list, &page, admin).ok());
  // Every other admin (from other tests) steps down first.
  std::string root_id;
  for (const v1::User& user : page.users()) {
    const bool is_admin =
        std::find(user.roles().begin(), user.roles().end(), "admin") != user.roles().end();
    if (user.email() == kAdminEmail) {
      root_id = user.id();
    } else if (is_admin && user.is_active()) {
      v1::User demoted;
      ASSERT_TRUE(SetRoles(admin, user.id(), {"user"}, &demoted).ok());
    }
  }
  ASSERT_FALSE(root_id.empty());
  v1::User user;
  ExpectStatus(SetRoles(admin, root_id, {"user"}, &user), StatusCode::FAILED_PRECONDITION,
               "roles: cannot remove the admin role from the last active admin");
  ExpectStatus(SetActive(admin, root_id, false, &user), StatusCode::FAILED_PRECONDITION,
               "active: cannot deactivate the last active admin");

  // With a second admin, the first may step down.
  const AuthResponse second = RegisterOrDie(NewEmail());
  ASSERT_TRUE(SetRoles(admin, second.user().id(), {"admin", "user"}, &user).ok());
  ASSERT_TRUE(SetRoles(admin, root_id, {"user"}, &user).ok());
  // ... and now the second is the last one.
  AuthResponse second_login;
  ASSERT_TRUE(Login(second.user().email(), kPassword, &second_login).ok());
  ExpectStatus(SetActive(second_login.access_token(), second.user().id(), false, &user),
               StatusCode::FAILED_PRECONDITION, "active: cannot deactivate the last active admin");
  // Put root back for the other tests.
  ASSERT_TRUE(SetRoles(second_login.access_token(), root_id, {"admin", "user"}, &user).ok());
}

TEST_F(AccountFlowsTest, ListUsersPagesEveryoneOnceWhileUsersAreAdded) {
  const std::string admin = AdminToken();
  // 250 accounts, inserted directly: hashing 250 passwords would be slow.
  {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    txn.exec("INSERT INTO users (email, email_normalized, first_name, last_name, password_hash, "
             "created_at, updated_at) "
             "SELECT 'bulk' || i || '@example.com', 'bulk' || i || '@example.com', 'B', 'U', "
             "'$argon2id$x', 1000 + i / 7, 1000 + i / 7 FROM generate_series(1, 250) AS i");
    txn.commit();
  }
  std::set<std::string> expected;
  {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    for (const auto& row : txn.exec("SELECT id::text FROM users")) {
      expected.insert(row[0].as<std::string>());
    }
  }
  ASSERT_GE(expected.size(), 250u);

  // Users keep registering while the pages are read.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 20 && !stop.load(); ++i) RegisterOrDie(NewEmail());
  });
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListUsersRequest request;
    request.set_page_size(100);
    request.set_page_token(token);
    v1::ListUsersResponse page;
    const grpc::Status status = Call(&v1::AuthService::Stub::ListUsers, request, &page, admin);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(page.users_size(), 100);
    for (const v1::User& user : page.users()) seen.push_back(user.id());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 100);
  stop = true;
  writer.join();

  const std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a user was listed twice";
  for (const std::string& id : expected) EXPECT_TRUE(unique.contains(id)) << id << " missing";
  EXPECT_GE(pages, 3);
}

TEST_F(AccountFlowsTest, ListUsersRefusesBadPageArguments) {
  const std::string admin = AdminToken();
  v1::ListUsersRequest request;
  v1::ListUsersResponse page;
  request.set_page_size(-1);
  ExpectStatus(Call(&v1::AuthService::Stub::ListUsers, request, &page, admin),
               StatusCode::INVALID_ARGUMENT, "page_size: must not be negative");
  request.set_page_size(1);
  ASSERT_TRUE(Call(&v1::AuthService::Stub::ListUsers, request, &page, admin).ok());
  ASSERT_EQ(page.users_size(), 1);
  ASSERT_FALSE(page.next_page_token().empty());
  // A token edited by the client, or made up, is refused.
  std::string forged = page.next_page_token();
  forged[2] = forged[2] == 'A' ? 'B' : 'A';
  for (const std::string& token : {forged, std::string("djF8MHww"), std::string("x.y")}) {
    request.set_page_token(token);
    ExpectStatus(Call(&v1::AuthService::Stub::ListUsers, request, &page, admin),
                 StatusCode::INVALID_ARGUMENT, "page_token: not a token from this API");
  }
  // 0 means the default page of 50; above 500 counts as 500.
  request.set_page_token("");
  request.set_page_size(0);
  ASSERT_TRUE(Call(&v1::AuthService::Stub::ListUsers, request, &page, admin).ok());
  EXPECT_LE(page.users_size(), 50);
}

// --- Policy ---------------------------------------------------------------

TEST_F(AccountFlowsTest, EveryProtectedMethodRefusesNoTokenAndAdminMethodsRefuseUsers) {
  const AuthResponse user = RegisterOrDie(NewEmail());
  v1::User out;
  v1::ListUsersResponse list;
  v1::AuthResponse pair;
  v1::RequestEmailVerificationResponse empty;
  const std::string no_token =
      "authorization metadata is required: send 'authorization: Bearer <token>'";
  ExpectStatus(Call(&v1::AuthService::Stub::GetCurrentUser, v1::GetCurrentUserRequest(), &out),
               StatusCode::UNAUTHENTICATED, no_token);
  ExpectStatus(Call(&v1::AuthService::Stub::UpdateProfile, v1::UpdateProfileRequest(), &out),
               StatusCode::UNAUTHENTICATED, no_token);
  ExpectStatus(Call(&v1::AuthService::Stub::ChangePassword, v1::ChangePasswordRequest(), &pair),
               StatusCode::UNAUTHENTICATED, no_token);
  ExpectStatus(Call(&v1::AuthService::Stub::RequestEmailVerification,
                    v1::RequestEmailVerificationRequest(), &empty),
               StatusCode::UNAUTHENTICATED, no_token);
  ExpectStatus(Call(&v1::AuthService::Stub::ListUsers, v1::ListUsersRequest(), &list),
               StatusCode::UNAUTHENTICATED, no_token);
  ExpectStatus(Call(&v1::AuthService::Stub::SetUserRoles, v1::SetUserRolesRequest(), &out),
               StatusCode::UNAUTHENTICATED, no_token);
  ExpectStatus(Call(&v1::AuthService::Stub::SetUserActive, v1::SetUserActiveRequest(), &out),
               StatusCode::UNAUTHENTICATED, no_token);
  const std::string needs_admin = "requires role 'admin'";
  for (const auto& [status, method] : std::vector<std::pair<grpc::Status, std::string>>{
           {Call(&v1::AuthService::Stub::ListUsers, v1::ListUsersRequest(), &list,
                 user.access_token()),
            "ListUsers"},
           {Call(&v1::AuthService::Stub::SetUserRoles, v1::SetUserRolesRequest(), &out,
                 user.access_token()),
            "SetUserRoles"},
           {Call(&v1::AuthService::Stub::SetUserActive, v1::SetUserActiveRequest(), &out,
                 user.access_token()),
            "SetUserActive"}}) {
    ExpectStatus(status, StatusCode::PERMISSION_DENIED,
                 "method tollgate.auth.v1.AuthService/" + method + " " + needs_admin);
  }
}

// --- Login throttle -----------------------------------------------------------

TEST_F(AccountFlowsTest, UnknownEmailsAreThrottledExactlyLikeKnownOnes) {
  const std::string known = NewEmail();
  RegisterOrDie(known);
  const std::string unknown = NewEmail();
  AuthResponse unused;
  for (const std::string& email : {known, unknown}) {
    for (int i = 0; i < 5; ++i) {
      ExpectStatus(Login(email, "wrong password!", &unused), StatusCode::UNAUTHENTICATED,
                   "invalid email or password");
    }
    ExpectStatus(Login(email, "wrong password!", &unused), StatusCode::RESOURCE_EXHAUSTED,
                 "too many failed logins: retry after 30 s");
  }
}

TEST_F(AccountFlowsTest, AStrangersFailuresDoNotLockTheOwnerOutFromElsewhere) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  AuthResponse unused;
  // The attacker, behind the trusted proxy 127.0.0.1 (the client claims a
  // first hop that proves nothing).
  const std::string attacker = "10.9.9.9, 203.0.113.5";
  for (int i = 0; i < 5; ++i) Login(email, "wrong password!", &unused, attacker);
  ExpectStatus(Login(email, kPassword, &unused, attacker), StatusCode::RESOURCE_EXHAUSTED,
               "too many failed logins: retry after 30 s");
  // The owner, from another address, is not locked out.
  EXPECT_TRUE(Login(email, kPassword, &unused, "198.51.100.7").ok());
  // The wait runs out by the service's clock.
  clock_.Advance(31);
  EXPECT_TRUE(Login(email, kPassword, &unused, attacker).ok());
}

// --- Look-alike accounts -------------------------------------------------------

TEST_F(AccountFlowsTest, LookAlikesOfAnExistingEmailCannotRegister) {
  const std::string real = "lookalike-admin@example.com";
  RegisterOrDie(real);
  for (const std::string& lookalike : {
           std::string("lookalike-adm\u0131n@example.com"),              // dotless i
           std::string("\uff4cookalike-admin@example.com"),               // full-width l
           std::string("lookalike-\u0430dmin@example.com"),               // Cyrillic a
           std::string("lookalike-admin@example.com\u200b"),              // zero-width space
           std::string("\u202elookalike-admin@example.com"),              // RTL override
           std::string("LOOKALIKE-Admin@EXAMPLE.com"),                     // case
       }) {
    v1::RegisterRequest request;
    request.set_email(lookalike);
    request.set_password(kPassword);
    request.set_first_name("Eve");
    request.set_last_name("Mallory");
    AuthResponse response;
    const grpc::Status status = Call(&v1::AuthService::Stub::Register, request, &response);
    EXPECT_TRUE(status.error_code() == StatusCode::INVALID_ARGUMENT ||
                status.error_code() == StatusCode::ALREADY_EXISTS)
        << lookalike << ": " << status.error_code() << " " << status.error_message();
    if (status.error_code() == StatusCode::INVALID_ARGUMENT) {
      EXPECT_EQ(status.error_message().rfind("email: ", 0), 0u) << status.error_message();
    }
  }
}

// --- Janitor and maintenance ----------------------------------------------------

TEST_F(AccountFlowsTest, JanitorDeletesExpiredCodesAndSentMailAfterAWeek) {
  config_.session_purge_interval_seconds = 1;
  StartServer();
  const std::string email = NewEmail();
  RegisterOrDie(email);
  ASSERT_TRUE(RequestReset(email).ok());
  ASSERT_EQ(MailTo(email, 1).size(), 1u);
  const auto count = [&](const std::string& sql) {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    return txn.exec_params1(sql, email)[0].as<int>();
  };
  const std::string codes =
      "SELECT count(*) FROM one_time_codes c JOIN users u ON u.id = c.user_id WHERE u.email = $1";
  const std::string mail = "SELECT count(*) FROM mail_outbox WHERE recipient = $1";
  EXPECT_EQ(count(codes), 1);
  EXPECT_EQ(count(mail), 1);
  // The sent mail's body is gone at once; the row stays for a week.
  EXPECT_EQ(count("SELECT count(*) FROM mail_outbox WHERE recipient = $1 AND body IS NULL"), 1);

  const auto await_zero = [&](const std::string& sql) {
    for (int i = 0; i < 100 && count(sql) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return count(sql);
  };
  clock_.Advance(config_.reset_ttl_seconds + 1);
  EXPECT_EQ(await_zero(codes), 0);
  EXPECT_EQ(count(mail), 1);
  clock_.Advance(kSentMailRetentionSeconds);
  EXPECT_EQ(await_zero(mail), 0);
}

TEST_F(AccountFlowsTest, StoredEmailKeysAreRemadeOnceWithTheCurrentRule) {
  // An account stored under the old rule (ASCII lower case only), which
  // left a full-width address's key full-width.
  const std::string full_width = "\uff52ekey@example.com";  // ｒekey@example.com
  {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    txn.exec_params("INSERT INTO users (email, email_normalized, first_name, last_name, "
                    "password_hash, created_at, updated_at) VALUES ($1, $1, 'R', 'K', 'x', 1, 1)",
                    full_width);
    txn.exec("DELETE FROM maintenance_done");
    txn.commit();
  }
  StartServer();
  {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    EXPECT_EQ(txn.exec_params1("SELECT email_normalized FROM users WHERE email = $1", full_width)[0]
                  .as<std::string>(),
              "rekey@example.com");
    EXPECT_EQ(txn.exec1("SELECT count(*) FROM maintenance_done")[0].as<int>(), 1);
  }
  // So the ASCII look-alike cannot register beside it.
  v1::RegisterRequest request;
  request.set_email("rekey@example.com");
  request.set_password(kPassword);
  request.set_first_name("Eve");
  request.set_last_name("Mallory");
  AuthResponse response;
  ExpectStatus(Call(&v1::AuthService::Stub::Register, request, &response),
               StatusCode::ALREADY_EXISTS, "email: an account with this email already exists");
}

}  // namespace
}  // namespace tollgate::auth
