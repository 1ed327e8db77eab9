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

TEST_F(RequestBuilderTest, SetActiveTakesExactlyTrueOrFalse) {
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

TEST_F(RequestBuilderTest, SetRolesTakesTheUserAndEveryRole) {
  absl::StatusOr<auth::v1::SetUserRolesRequest> request =
      Build({"set-roles", "u1", "user", "admin"}).SetUserRoles();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->user_id(), "u1");
  ASSERT_EQ(request->roles_size(), 2);
  EXPECT_EQ(request->roles(0), "user");
  EXPECT_EQ(request->roles(1), "admin");
}

TEST_F(RequestBuilderTest, ListUsersPageOptions) {
  absl::StatusOr<auth::v1::ListUsersRequest> request = Build({"list-users"}).ListUsers();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->page_size(), 0);
  EXPECT_EQ(request->page_token(), "");
  request = Build({"list-users", "--page-size", "50", "--page-token", "abc"}).ListUsers();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->page_size(), 50);
  EXPECT_EQ(request->page_token(), "abc");
  request = Build({"list-users", "--page-size=2147483648"}).ListUsers();
  EXPECT_EQ(request.status().message(),
            "list-users: --page-size: '2147483648' is out of the int32 range "
            "(see 'tollgate list-users --help')");
}

TEST_F(RequestBuilderTest, UpdateProfileSetsOnlyTheGivenFields) {
  absl::StatusOr<auth::v1::UpdateProfileRequest> request =
      Build({"update-profile", "--last-name", "Byron"}).UpdateProfile();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->has_first_name());
  EXPECT_FALSE(request->has_email());
  ASSERT_TRUE(request->has_last_name());
  EXPECT_EQ(request->last_name(), "Byron");

  request = Build({"update-profile", "--email=", "--first-name", "A"}).UpdateProfile();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_TRUE(request->has_email());  // present but empty: the server says why not
  EXPECT_EQ(request->first_name(), "A");

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

TEST_F(RequestBuilderTest, ChangePasswordReadsCurrentThenNewFromStdin) {
  stdin_.str("old secret\nnew secret\n");
  absl::StatusOr<auth::v1::ChangePasswordRequest> request =
      Build({"change-password"}).ChangePassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->current_password(), "old secret");
  EXPECT_EQ(request->new_password(), "new secret");

  stdin_.clear();
  stdin_.str("old secret\n");
  request = Build({"change-password"}).ChangePassword();
  EXPECT_EQ(request.status().message(),
            "change-password: no new password: give --new-password, set TOLLGATE_NEW_PASSWORD, "
            "or write it as one line on stdin (see 'tollgate change-password --help')");

  env_["TOLLGATE_NEW_PASSWORD"] = "from env";
  request = Build({"change-password", "--password", "old"}).ChangePassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->current_password(), "old");
  EXPECT_EQ(request->new_password(), "from env");
}

TEST_F(RequestBuilderTest, ResetPasswordTakesTokenAndNewPassword) {
  absl::StatusOr<auth::v1::ResetPasswordRequest> request =
      Build({"reset-password", "rst_abc", "--new-password", "n3w password"}).ResetPassword();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->token(), "rst_abc");
  EXPECT_EQ(request->new_password(), "n3w password");
}

TEST_F(RequestBuilderTest, MailTokenRequests) {
  EXPECT_EQ(Build({"verify-email", "vrf_1"}).VerifyEmail()->token(), "vrf_1");
  EXPECT_EQ(Build({"request-password-reset", "a@b.c"}).RequestPasswordReset()->email(), "a@b.c");
}

TEST_F(RequestBuilderTest, LogoutAllSessions) {
  EXPECT_FALSE(Build({"logout"}).Logout().all_sessions());
  EXPECT_TRUE(Build({"logout", "--all-sessions"}).Logout().all_sessions());
  EXPECT_EQ(Build({"logout"}).Logout().refresh_token(), "");  // filled from the token file
}

}  // namespace
}  // namespace tollgate::cli
