#include "client/cli/request_builder.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tollgate::cli {
namespace {

class RequestBuilderTest : public ::testing::Test {
 protected:
  // Parses `args` (which must parse) and returns a builder for them, reading
  // passwords from `stdin_` and `env_`.
  RequestBuilder& Build(const std::vector<std::string>& args) {
    EnvLookup env = [this](const std::string& name) -> std::optional<std::string> {
      const auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    absl::StatusOr<CommandLine> parsed = CommandLine::Parse(args, env);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    command_line_.emplace(*std::move(parsed));
    passwords_.emplace(env, stdin_, prompts_, /*in_is_terminal=*/false);
    builder_.emplace(*command_line_, *passwords_);
    return *builder_;
  }

  std::map<std::string, std::string> env_;
  std::istringstream stdin_;
  std::ostringstream prompts_;
  std::optional<CommandLine> command_line_;
  std::optional<PasswordSource> passwords_;
  std::optional<RequestBuilder> builder_;
};

TEST_F(RequestBuilderTest, SumTakesTwoInt64s) {
  absl::StatusOr<sum::v1::SumRequest> request =
      Build({"sum", "-9223372036854775808", "9223372036854775807"}).Sum();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->a(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(request->b(), std::numeric_limits<int64_t>::max());
}

TEST_F(RequestBuilderTest, SumRejectsBadNumbersAsUsageErrors) {
  absl::StatusOr<sum::v1::SumRequest> request = Build({"sum", "12x", "1"}).Sum();
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "sum: A: '12x' is not an integer (see 'tollgate sum --help')");
  request = Build({"sum", "1", "9223372036854775808"}).Sum();
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "sum: B: '9223372036854775808' is out of the int64 range (see 'tollgate sum --help')");
}

TEST_F(RequestBuilderTest, SumStreamValuesFromArguments) {
  absl::StatusOr<std::vector<int64_t>> values =
      Build({"sum-stream", "1", "-2", "3"}).SumStreamValues(stdin_);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(*values, std::vector<int64_t>({1, -2, 3}));

  values = Build({"sum-stream"}).SumStreamValues(stdin_);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_TRUE(values->empty());

  values = Build({"sum-stream", "1", "x"}).SumStreamValues(stdin_);
  EXPECT_EQ(values.status().message(),
            "sum-stream: VALUE: 'x' is not an integer (see 'tollgate sum-stream --help')");
  values = Build({"sum-stream", "1", "-"}).SumStreamValues(stdin_);
  EXPECT_EQ(values.status().message(),
            "sum-stream: '-' (read stdin) must be the only argument "
            "(see 'tollgate sum-stream --help')");
}

TEST_F(RequestBuilderTest, SumStreamValuesFromStdinOnePerLine) {
  stdin_.str("1\n  -2 \r\n\n9223372036854775807\n4");  // last line without '\n'
  absl::StatusOr<std::vector<int64_t>> values = Build({"sum-stream", "-"}).SumStreamValues(stdin_);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(*values, std::vector<int64_t>({1, -2, 9223372036854775807, 4}));
}

TEST_F(RequestBuilderTest, SumStreamNamesTheBadStdinLine) {
  stdin_.str("1\n2\n3 4\n");
  absl::StatusOr<std::vector<int64_t>> values = Build({"sum-stream", "-"}).SumStreamValues(stdin_);
  EXPECT_EQ(values.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(values.status().message(),
            "sum-stream: stdin line 3: '3 4' is not an integer (see 'tollgate sum-stream --help')");
}

TEST_F(RequestBuilderTest, UsersActivateAndDeactivate) {
  absl::StatusOr<auth::v1::SetUserActiveRequest> request =
      Build({"users", "activate", "u1"}).SetUserActive();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->user_id(), "u1");
  EXPECT_TRUE(request->active());
  request = Build({"users", "deactivate", "u2"}).SetUserActive();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->user_id(), "u2");
  EXPECT_FALSE(request->active());
}

TEST_F(RequestBuilderTest, OlderSetActiveTakesExactlyTrueOrFalse) {
  absl::StatusOr<auth::v1::SetUserActiveRequest> request =
      Build({"set-active", "u1", "true"}).SetUserActive();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->user_id(), "u1");
  EXPECT_TRUE(request->active());
  request = Build({"set-active", "u1", "false"}).SetUserActive();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->active());
  for (const char* word : {"yes", "1", "False", "TRUE", ""}) {
    request = Build({"set-active", "u1", word}).SetUserActive();
    EXPECT_EQ(request.status().message(), std::string("set-active: expected true or false, got '") +
                                              word + "' (see 'tollgate set-active --help')");
  }
}

TEST_F(RequestBuilderTest, UsersRolesTakesTheUserAndEveryRole) {
  absl::StatusOr<auth::v1::SetUserRolesRequest> request =
      Build({"users", "roles", "u1", "user", "admin"}).SetUserRoles();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->user_id(), "u1");
  EXPECT_EQ(std::vector<std::string>(request->roles().begin(), request->roles().end()),
            std::vector<std::string>({"user", "admin"}));
  // The older name builds the same request.
  request = Build({"set-roles", "u1", "user"}).SetUserRoles();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->user_id(), "u1");
  EXPECT_EQ(std::vector<std::string>(request->roles().begin(), request->roles().end()),
            std::vector<std::string>({"user"}));
}

TEST_F(RequestBuilderTest, UsersListPageOptions) {
  absl::StatusOr<auth::v1::ListUsersRequest> request = Build({"users", "list"}).ListUsers();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->page_size(), 0);
  EXPECT_EQ(request->page_token(), "");
  request = Build({"users", "list", "--page-size", "50", "--page-token", "abc"}).ListUsers();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->page_size(), 50);
  EXPECT_EQ(request->page_token(), "abc");
  // --all changes what is done with the reply, not the first request.
  request = Build({"users", "list", "--all", "--page-size=0"}).ListUsers();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->page_size(), 0);
  EXPECT_EQ(request->page_token(), "");
  request = Build({"list-users", "--page-size", "7"}).ListUsers();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->page_size(), 7);
}

TEST_F(RequestBuilderTest, UsersListRejectsBadPageSizes) {
  absl::StatusOr<auth::v1::ListUsersRequest> request =
      Build({"users", "list", "--page-size", "-1"}).ListUsers();
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "users list: --page-size: expected 0 or more, got '-1' "
            "(see 'tollgate users list --help')");
  request = Build({"users", "list", "--page-size=2147483648"}).ListUsers();
  EXPECT_EQ(request.status().message(),
            "users list: --page-size: '2147483648' is out of the int32 range "
            "(see 'tollgate users list --help')");
  request = Build({"users", "list", "--page-size=ten"}).ListUsers();
  EXPECT_EQ(request.status().message(),
            "users list: --page-size: 'ten' is not an integer "
            "(see 'tollgate users list --help')");
  request = Build({"list-users", "--page-size=-5"}).ListUsers();
  EXPECT_EQ(request.status().message(),
            "list-users: --page-size: expected 0 or more, got '-5' "
            "(see 'tollgate list-users --help')");
}

TEST_F(RequestBuilderTest, ProfileUpdateSetsOnlyTheGivenFields) {
  absl::StatusOr<auth::v1::UpdateProfileRequest> request =
      Build({"profile", "update", "--last-name", "Byron"}).UpdateProfile();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->has_first_name());
  EXPECT_FALSE(request->has_email());
  ASSERT_TRUE(request->has_last_name());
  EXPECT_EQ(request->last_name(), "Byron");

  request = Build({"profile", "update", "--first-name", "Ada", "--last-name", "King", "--email",
                   "ada@king.example"})
                .UpdateProfile();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->first_name(), "Ada");
  EXPECT_EQ(request->last_name(), "King");
  EXPECT_EQ(request->email(), "ada@king.example");

  request = Build({"profile", "update", "--email=", "--first-name", "A"}).UpdateProfile();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_TRUE(request->has_email());  // present but empty: the server says why not
  EXPECT_EQ(request->email(), "");
  EXPECT_EQ(request->first_name(), "A");
  EXPECT_FALSE(request->has_last_name());
}

TEST_F(RequestBuilderTest, ProfileUpdateWithoutAnyFieldIsAUsageError) {
  absl::StatusOr<auth::v1::UpdateProfileRequest> request =
      Build({"profile", "update"}).UpdateProfile();
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "profile update: nothing to update: give --first-name, --last-name or --email "
            "(see 'tollgate profile update --help')");
  request = Build({"update-profile"}).UpdateProfile();
  EXPECT_EQ(request.status().message(),
            "update-profile: nothing to update: give --first-name, --last-name or --email "
            "(see 'tollgate update-profile --help')");
}

TEST_F(RequestBuilderTest, RegisterTakesEmailNamesAndPassword) {
  env_["TOLLGATE_PASSWORD"] = "from the environment";
  absl::StatusOr<auth::v1::RegisterRequest> request =
      Build({"register", "ada@example.com", "--first-name", "Ada", "--last-name", "Lovelace"})
          .Register();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->email(), "ada@example.com");
  EXPECT_EQ(request->first_name(), "Ada");
  EXPECT_EQ(request->last_name(), "Lovelace");
  EXPECT_EQ(request->password(), "from the environment");
}

TEST_F(RequestBuilderTest, PasswordFlagBeatsEnvironmentBeatsStdin) {
  env_["TOLLGATE_PASSWORD"] = "env";
  stdin_.str("stdin\n");
  EXPECT_EQ(Build({"login", "a@b.c", "--password", "flag"}).Login()->password(), "flag");
  EXPECT_EQ(Build({"login", "a@b.c"}).Login()->password(), "env");
  env_["TOLLGATE_PASSWORD"] = "";  // empty counts as unset
  EXPECT_EQ(Build({"login", "a@b.c"}).Login()->password(), "stdin");
  EXPECT_EQ(prompts_.str(), "");  // no prompt when stdin is not a terminal
}

TEST_F(RequestBuilderTest, PasswordFromStdinDropsTheLineEnd) {
  stdin_.str("pass word\r\nnext\n");
  absl::StatusOr<auth::v1::LoginRequest> request = Build({"login", "a@b.c"}).Login();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->email(), "a@b.c");
  EXPECT_EQ(request->password(), "pass word");
}

TEST_F(RequestBuilderTest, MissingPasswordIsAUsageError) {
  absl::StatusOr<auth::v1::LoginRequest> request = Build({"login", "a@b.c"}).Login();
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "login: no password: give --password, set TOLLGATE_PASSWORD, or write it as one "
            "line on stdin (see 'tollgate login --help')");
}

TEST_F(RequestBuilderTest, PasswordChangeReadsCurrentThenNewFromStdin) {
  stdin_.str("old secret\nnew secret\n");
  absl::StatusOr<auth::v1::ChangePasswordRequest> request =
      Build({"password", "change"}).ChangePassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->current_password(), "old secret");
  EXPECT_EQ(request->new_password(), "new secret");

  stdin_.clear();
  stdin_.str("old secret\n");
  request = Build({"password", "change"}).ChangePassword();
  EXPECT_EQ(request.status().message(),
            "password change: no new password: give --new-password, set TOLLGATE_NEW_PASSWORD, "
            "or write it as one line on stdin (see 'tollgate password change --help')");

  stdin_.clear();
  stdin_.str("");
  request = Build({"password", "change"}).ChangePassword();
  EXPECT_EQ(request.status().message(),
            "password change: no current password: give --password, set TOLLGATE_PASSWORD, "
            "or write it as one line on stdin (see 'tollgate password change --help')");

  env_["TOLLGATE_NEW_PASSWORD"] = "from env";
  request = Build({"password", "change", "--password", "old"}).ChangePassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->current_password(), "old");
  EXPECT_EQ(request->new_password(), "from env");

  // The older name, flags only.
  request = Build({"change-password", "--password", "a", "--new-password", "b"}).ChangePassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->current_password(), "a");
  EXPECT_EQ(request->new_password(), "b");
}

TEST_F(RequestBuilderTest, PasswordResetTakesTheCodeAndANewPassword) {
  absl::StatusOr<auth::v1::ResetPasswordRequest> request =
      Build({"password", "reset", "tgp_abc", "--new-password", "n3w password"}).ResetPassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->token(), "tgp_abc");
  EXPECT_EQ(request->new_password(), "n3w password");

  stdin_.str("from stdin\n");
  request = Build({"password", "reset", "tgp_xyz"}).ResetPassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->token(), "tgp_xyz");
  EXPECT_EQ(request->new_password(), "from stdin");

  request = Build({"reset-password", "tgp_old", "--new-password", "p"}).ResetPassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->token(), "tgp_old");
}

TEST_F(RequestBuilderTest, PasswordResetNeedsAResetCodeAndANewPassword) {
  for (const char* code : {"tge_abc", "abc", "tgp_", "TGP_abc", ""}) {
    absl::StatusOr<auth::v1::ResetPasswordRequest> request =
        Build({"password", "reset", code, "--new-password", "p"}).ResetPassword();
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(request.status().message(),
              std::string("password reset: CODE: expected the tgp_... code from the password "
                          "reset mail, got '") +
                  code + "' (see 'tollgate password reset --help')");
  }
  absl::StatusOr<auth::v1::ResetPasswordRequest> request =
      Build({"password", "reset", "tgp_abc"}).ResetPassword();
  EXPECT_EQ(request.status().message(),
            "password reset: no new password: give --new-password, set TOLLGATE_NEW_PASSWORD, "
            "or write it as one line on stdin (see 'tollgate password reset --help')");
}

TEST_F(RequestBuilderTest, EmailVerifyTakesAVerificationCode) {
  absl::StatusOr<auth::v1::VerifyEmailRequest> request =
      Build({"email", "verify", "tge_1"}).VerifyEmail();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->token(), "tge_1");
  EXPECT_EQ(Build({"verify-email", "tge_2"}).VerifyEmail()->token(), "tge_2");

  request = Build({"email", "verify", "tgp_1"}).VerifyEmail();
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(),
            "email verify: CODE: expected the tge_... code from the email verification mail, "
            "got 'tgp_1' (see 'tollgate email verify --help')");
  request = Build({"verify-email", "vrf_1"}).VerifyEmail();
  EXPECT_EQ(request.status().message(),
            "verify-email: CODE: expected the tge_... code from the email verification mail, "
            "got 'vrf_1' (see 'tollgate verify-email --help')");
}

TEST_F(RequestBuilderTest, PasswordResetRequestTakesTheEmail) {
  absl::StatusOr<auth::v1::RequestPasswordResetRequest> request =
      Build({"password", "reset-request", "a@b.c"}).RequestPasswordReset();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->email(), "a@b.c");
  EXPECT_EQ(Build({"request-password-reset", "d@e.f"}).RequestPasswordReset()->email(), "d@e.f");
}

TEST_F(RequestBuilderTest, LogoutAllSessions) {
  EXPECT_FALSE(Build({"logout"}).Logout().all_sessions());
  EXPECT_TRUE(Build({"logout", "--all-sessions"}).Logout().all_sessions());
  EXPECT_EQ(Build({"logout"}).Logout().refresh_token(), "");  // filled from the token file
}

}  // namespace
}  // namespace tollgate::cli
