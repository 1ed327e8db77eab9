// The command dispatcher in process, against fake AuthService and
// SumService servers on 127.0.0.1: exit statuses, exact stdout and stderr,
// what is saved in the token file, and which token each call carried.
#include "client/cli/cli.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/session/file_token_store.h"
#include "tests/client/cli_in_process.h"
#include "tests/client/fake_services.h"
#include "tests/client/temp_dir.h"
#include "tests/support/fake_clock.h"

namespace tollgate::cli {
namespace {

using client::FileTokenStore;
using client::SavedTokens;
using testing::FakeServer;
using testing::TempDir;

constexpr int64_t kNow = 1'800'000'000;

using Outcome = tollgate::testing::ProgramOutcome;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    ASSERT_FALSE(dir_.path().empty());
    token_path_ = dir_.path() + "/tokens.json";
    env_ = {
        {"HOME", dir_.path()},
        {"TOLLGATE_AUTH_ADDR", server_.address()},
        {"TOLLGATE_SUM_ADDR", server_.address()},
        {"TOLLGATE_TOKEN_FILE", token_path_},
    };
  }

  Outcome Run(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return tollgate::testing::RunCliInProcess(args, env_, clock_, stdin_text);
  }

  // As after `tollgate login`: pair 1 saved, access token valid 600 s more.
  void LogIn() {
    SavedTokens tokens = SavedTokens::FromAuthResponse(server_.state.Issue(), kNow);
    tokens.access_expires_at_unix_seconds = kNow + 600;
    ASSERT_TRUE(FileTokenStore(token_path_).Save(tokens).ok());
  }

  std::vector<std::string> Authorizations() {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    return server_.state.authorizations;
  }

  std::string Saved(const std::string& what) {
    return "\"" + what + "\":\"<saved to " + token_path_ + ">\"";
  }

  FakeServer server_;
  TempDir dir_;
  std::string token_path_;
  std::map<std::string, std::string> env_;
  tollgate::testing::FakeClock clock_{kNow};
};

TEST_F(CliTest, HelpGoesToStdoutAndExitsZero) {
  Outcome outcome = Run({"--help"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess);
  EXPECT_EQ(outcome.out, GeneralHelpText());
  EXPECT_EQ(outcome.err, "");
  for (const CommandSpec& command : AllCommands()) {
    std::vector<std::string> args = absl::StrSplit(command.name, ' ');  // "users roles"
    args.push_back("--help");
    outcome = Run(args);
    EXPECT_EQ(outcome.exit_code, kExitSuccess) << command.name;
    EXPECT_EQ(outcome.out, command.HelpText());
  }
  for (const CommandGroup& group : AllGroups()) {
    outcome = Run({std::string(group.name), "--help"});
    EXPECT_EQ(outcome.exit_code, kExitSuccess) << group.name;
    EXPECT_EQ(outcome.out, group.HelpText());
  }
}

TEST_F(CliTest, GeneralHelpListsTheTwoWordCommandsAndTheOlderNames) {
  const std::string help = Run({"--help"}).out;
  for (const char* line : {
           "  me                            print the logged-in account\n",
           "  profile update                change the given fields of the logged-in account\n",
           "  password change               change the password; all sessions end, a fresh pair "
           "is saved\n",
           "  password reset-request EMAIL  mail a password reset code (answers OK for unknown "
           "emails too)\n",
           "  password reset CODE           set a new password with the mailed reset code "
           "(tgp_...)\n",
           "  email verify-request          mail an email verification code to the logged-in "
           "account\n",
           "  email verify CODE             mark an email verified with the mailed code "
           "(tge_...)\n",
           "  users list                    page through all accounts (role admin)\n",
           "  users roles USER_ID ROLE...   replace an account's roles (role admin)\n",
           "  users activate USER_ID        activate an account (role admin)\n",
           "  users deactivate USER_ID      deactivate an account and end its sessions (role "
           "admin)\n",
           "  whoami                        me\n",
           "  set-roles                     users roles\n",
           "  set-active                    users activate|deactivate\n",
       }) {
    EXPECT_NE(help.find(line), std::string::npos) << line;
  }
}

TEST_F(CliTest, GroupHelpListsTheVerbs) {
  const Outcome outcome = Run({"users", "--help"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess);
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(outcome.out,
            "Usage: tollgate users VERB [options] [arguments]\n"
            "\n"
            "manage accounts (role admin)\n"
            "\n"
            "Verbs:\n"
            "  list                          page through all accounts (role admin)\n"
            "  roles USER_ID ROLE...         replace an account's roles (role admin)\n"
            "  activate USER_ID              activate an account (role admin)\n"
            "  deactivate USER_ID            deactivate an account and end its sessions "
            "(role admin)\n"
            "\n"
            "'tollgate users VERB --help' shows the options of one verb; 'tollgate --help' the\n"
            "global options.\n");
}

TEST_F(CliTest, VerbHelpShowsTheUsage) {
  Outcome outcome = Run({"users", "roles", "--help"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess);
  EXPECT_EQ(outcome.out.rfind("Usage: tollgate users roles USER_ID ROLE...\n\n"
                              "replace an account's roles (role admin)\n\n"
                              "Calls tollgate.auth.v1.AuthService/SetUserRoles.\n",
                              0),
            0u)
      << outcome.out;
  outcome = Run({"users", "list", "--help"});
  EXPECT_EQ(outcome.out.rfind("Usage: tollgate users list [options]\n", 0), 0u) << outcome.out;
  EXPECT_NE(outcome.out.find("  --all                  follow next_page_token to the last page, "
                             "print every user\n"),
            std::string::npos)
      << outcome.out;
  outcome = Run({"set-roles", "--help"});
  EXPECT_EQ(outcome.out.rfind("Usage: tollgate set-roles USER_ID ROLE...\n", 0), 0u);
  EXPECT_NE(outcome.out.find("An older name of 'tollgate users roles', still accepted.\n"),
            std::string::npos)
      << outcome.out;
}

TEST_F(CliTest, UsageErrorsExitTwoWithOneLineOnStderr) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "tollgate: missing command (see 'tollgate --help')\n"},
      {{"frobnicate"}, "tollgate: unknown command 'frobnicate' (see 'tollgate --help')\n"},
      {{"sum", "1", "x"}, "tollgate: sum: B: 'x' is not an integer (see 'tollgate sum --help')\n"},
      {{"sum", "1", "99999999999999999999"},
       "tollgate: sum: B: '99999999999999999999' is out of the int64 range "
       "(see 'tollgate sum --help')\n"},
      {{"login"}, "tollgate: login: missing argument EMAIL (see 'tollgate login --help')\n"},
      {{"login", "ada@example.com"},
       "tollgate: login: no password: give --password, set TOLLGATE_PASSWORD, or write it as "
       "one line on stdin (see 'tollgate login --help')\n"},
      {{"set-active", "u1", "maybe"},
       "tollgate: set-active: expected true or false, got 'maybe' "
       "(see 'tollgate set-active --help')\n"},
      {{"users"},
       "tollgate: users: missing verb, expected list, roles, activate or deactivate "
       "(see 'tollgate users --help')\n"},
      {{"users", "delete", "u1"},
       "tollgate: users: unknown verb 'delete', expected list, roles, activate or deactivate "
       "(see 'tollgate users --help')\n"},
      {{"users", "roles", "u1"},
       "tollgate: users roles: missing argument ROLE (see 'tollgate users roles --help')\n"},
      {{"users", "list", "--page-size", "-1"},
       "tollgate: users list: --page-size: expected 0 or more, got '-1' "
       "(see 'tollgate users list --help')\n"},
      {{"profile", "update"},
       "tollgate: profile update: nothing to update: give --first-name, --last-name or --email "
       "(see 'tollgate profile update --help')\n"},
      {{"password", "reset", "abc", "--new-password", "n"},
       "tollgate: password reset: CODE: expected the tgp_... code from the password reset mail, "
       "got 'abc' (see 'tollgate password reset --help')\n"},
      {{"email", "verify", "tgp_abc"},
       "tollgate: email verify: CODE: expected the tge_... code from the email verification "
       "mail, got 'tgp_abc' (see 'tollgate email verify --help')\n"},
  };
  for (const auto& [args, err] : cases) {
    const Outcome outcome = Run(args);
    EXPECT_EQ(outcome.exit_code, kExitUsage) << err;
    EXPECT_EQ(outcome.err, err);
    EXPECT_EQ(outcome.out, "");
  }
  EXPECT_TRUE(Authorizations().empty());  // nothing was called
}

TEST_F(CliTest, NoTokenFilePathIsAUsageError) {
  env_.erase("HOME");
  env_.erase("TOLLGATE_TOKEN_FILE");
  const Outcome outcome = Run({"whoami"});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  EXPECT_EQ(outcome.err,
            "tollgate: whoami: no token file: give --token-file, set TOLLGATE_TOKEN_FILE, or set "
            "HOME (see 'tollgate whoami --help')\n");
  // jwks needs no token file.
  EXPECT_EQ(Run({"jwks"}).exit_code, kExitSuccess);
}

TEST_F(CliTest, LoginSavesThePairAndPrintsItWithoutTheTokens) {
  const Outcome outcome = Run({"login", "ada@example.com"}, "correct horse battery staple\n");
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(outcome.out,
            "{" + Saved("access_token") +
                ",\"token_type\":\"Bearer\",\"expires_in\":\"900\"," + Saved("refresh_token") +
                ",\"refresh_expires_in\":\"3600\",\"user\":{\"id\":\"user-1\",\"email\":\"ada@"
                "example.com\",\"first_name\":\"\",\"last_name\":\"\",\"roles\":[\"user\"],"
                "\"is_active\":true,\"is_verified\":false}}\n");
  EXPECT_EQ(outcome.out.find("access-1"), std::string::npos);
  EXPECT_EQ(outcome.out.find("tgr_"), std::string::npos);

  struct stat st {};
  ASSERT_EQ(::stat(token_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  absl::StatusOr<SavedTokens> saved = FileTokenStore(token_path_).Load();
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->access_token, "access-1");
  EXPECT_EQ(saved->refresh_token, "tgr_refresh-1");
  EXPECT_EQ(saved->access_expires_at_unix_seconds, kNow + 900);
  EXPECT_EQ(saved->email, "ada@example.com");
}

TEST_F(CliTest, ShowTokensPrintsThem) {
  env_["TOLLGATE_PASSWORD"] = testing::kFakePassword;
  const Outcome outcome = Run({"login", "ada@example.com", "--show-tokens"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_NE(outcome.out.find("\"access_token\":\"access-1\""), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("\"refresh_token\":\"tgr_refresh-1\""), std::string::npos);
}

TEST_F(CliTest, AFailedCallIsOneLineWithRpcAndCodeAndExitsOne) {
  const Outcome outcome = Run({"login", "ada@example.com", "--password", "wrong"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "tollgate: Login: UNAUTHENTICATED: invalid email or password\n");
  EXPECT_FALSE(std::filesystem::exists(token_path_));

  env_["TOLLGATE_PASSWORD"] = "whatever";
  const Outcome taken = Run({"register", "taken@example.com", "--first-name", "A",
                             "--last-name", "B"});
  EXPECT_EQ(taken.exit_code, kExitFailure);
  EXPECT_EQ(taken.err, "tollgate: Register: ALREADY_EXISTS: email is already registered\n");
}

TEST_F(CliTest, UnimplementedRpcIsReportedByName) {
  LogIn();
  {
    // As the real AuthService answers the RPCs it does not implement yet.
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.fail_next = grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  }
  const Outcome outcome = Run({"users", "list"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err, "tollgate: ListUsers: UNIMPLEMENTED\n");
}

TEST_F(CliTest, UnreachableServerIsUnavailable) {
  const Outcome outcome = Run({"jwks", "--auth", "127.0.0.1:1", "--timeout", "5"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err.rfind("tollgate: GetJwks: UNAVAILABLE: ", 0), 0u) << outcome.err;
  EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1);
}

TEST_F(CliTest, JwksPrintsTheResponse) {
  const Outcome outcome = Run({"jwks"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"jwks_json\":\"{\\\"keys\\\":[]}\"}\n");
}

TEST_F(CliTest, SumSendsTheSavedBearerTokenAndPrintsTheResult) {
  LogIn();
  const Outcome outcome = Run({"sum", "-5", "3"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"result\":\"-2\"}\n");
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1"}));
}

TEST_F(CliTest, SumOfZeroPrintsTheZero) {
  LogIn();
  EXPECT_EQ(Run({"sum", "0", "0"}).out, "{\"result\":\"0\"}\n");
}

TEST_F(CliTest, SumOverflowIsOutOfRange) {
  LogIn();
  const Outcome outcome = Run({"sum", "9223372036854775807", "1"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err, "tollgate: Sum: OUT_OF_RANGE: sum overflows int64\n");
}

TEST_F(CliTest, SumStreamSendsEveryValueFromStdin) {
  LogIn();
  const Outcome outcome = Run({"sum-stream", "-"}, "1\n2\n\n39\n");
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"result\":\"42\"}\n");
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  EXPECT_EQ(server_.state.streamed_values, std::vector<int64_t>({1, 2, 39}));
}

TEST_F(CliTest, SumStreamResendsEveryValueAfterARefresh) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.live_access_tokens.erase("access-1");
  }
  const Outcome outcome = Run({"sum-stream", "20", "22"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"result\":\"42\"}\n");
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1", "Bearer access-2"}));
}

TEST_F(CliTest, UsagePrintsTheCallsPerSubject) {
  LogIn();
  const Outcome outcome = Run({"usage"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"usage\":[{\"subject\":\"user-1\",\"calls\":\"3\"}]}\n");
}

TEST_F(CliTest, AnExpiringAccessTokenIsRefreshedAndSavedBeforeTheCall) {
  LogIn();
  clock_.Advance(600 - 10);  // 10 s left
  const Outcome outcome = Run({"whoami"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-2"}));
  EXPECT_EQ(FileTokenStore(token_path_).Load()->refresh_token, "tgr_refresh-2");
  EXPECT_EQ(outcome.out.find("access-2"), std::string::npos);  // never printed
}

TEST_F(CliTest, ARevokedSessionFailsWithRefreshUnauthenticated) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.live_access_tokens.clear();
    server_.state.reject_refresh = true;
  }
  const Outcome outcome = Run({"whoami"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err,
            "tollgate: session ended: Refresh: UNAUTHENTICATED: invalid refresh token (run "
            "'tollgate login')\n");
}

TEST_F(CliTest, RefreshSavesTheNewPair) {
  LogIn();
  const Outcome outcome = Run({"refresh"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_NE(outcome.out.find(Saved("access_token")), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find(Saved("refresh_token")), std::string::npos) << outcome.out;
  EXPECT_EQ(FileTokenStore(token_path_).Load()->refresh_token, "tgr_refresh-2");
}

TEST_F(CliTest, ChangePasswordSavesTheFreshPair) {
  LogIn();
  const Outcome outcome = Run({"change-password"}, std::string(testing::kFakePassword) +
                                                       "\nthe new password\n");
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(FileTokenStore(token_path_).Load()->access_token, "access-2");
  EXPECT_EQ(outcome.out.find("access-2"), std::string::npos);
}

TEST_F(CliTest, AWorldReadableTokenFileIsRefused) {
  LogIn();
  ASSERT_EQ(::chmod(token_path_.c_str(), 0644), 0);
  const Outcome outcome = Run({"sum", "1", "2"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err, "tollgate: permissions 0644 for token file " + token_path_ +
                             " are too open: it must not be accessible by group or others "
                             "(run: chmod 600 " + token_path_ + ")\n");
  EXPECT_TRUE(Authorizations().empty());
}

TEST_F(CliTest, NotLoggedIn) {
  const Outcome outcome = Run({"whoami"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err, "tollgate: not logged in: no token file at " + token_path_ +
                             " (run 'tollgate login')\n");
}

TEST_F(CliTest, LogoutRevokesAndDeletesTheTokenFile) {
  LogIn();
  const Outcome outcome = Run({"logout", "--all-sessions"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{}\n");
  EXPECT_FALSE(std::filesystem::exists(token_path_));
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  ASSERT_EQ(server_.state.logouts.size(), 1u);
  EXPECT_EQ(server_.state.logouts[0].refresh_token(), "tgr_refresh-1");
  EXPECT_TRUE(server_.state.logouts[0].all_sessions());
}

TEST_F(CliTest, AFailedLogoutKeepsTheTokenFileForARetry) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.fail_logout = true;
  }
  const Outcome outcome = Run({"logout"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err, "tollgate: Logout: UNAVAILABLE: database is unreachable\n");
  EXPECT_TRUE(std::filesystem::exists(token_path_));
}

// The JSON line of FakeUser(id, email) with the given flags.
std::string UserJson(const std::string& id, const std::string& email, bool active = true,
                     bool verified = false) {
  return "{\"id\":\"" + id + "\",\"email\":\"" + email +
         "\",\"first_name\":\"\",\"last_name\":\"\",\"roles\":[\"user\"],\"is_active\":" +
         (active ? "true" : "false") + ",\"is_verified\":" + (verified ? "true" : "false") + "}";
}

TEST_F(CliTest, MePrintsTheLoggedInAccount) {
  LogIn();
  for (const char* name : {"me", "whoami"}) {
    const Outcome outcome = Run({name});
    EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
    EXPECT_EQ(outcome.err, "");
    EXPECT_EQ(outcome.out, UserJson("user-1", "ada@example.com") + "\n");
  }
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1", "Bearer access-1"}));
}

TEST_F(CliTest, ProfileUpdateSendsOnlyTheGivenFields) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.user_reply.set_last_name("Byron");
  }
  const Outcome outcome = Run({"profile", "update", "--last-name", "Byron"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out,
            "{\"id\":\"user-1\",\"email\":\"ada@example.com\",\"first_name\":\"\","
            "\"last_name\":\"Byron\",\"roles\":[\"user\"],\"is_active\":true,"
            "\"is_verified\":false}\n");
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1"}));
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  ASSERT_EQ(server_.state.update_profiles.size(), 1u);
  const auth::v1::UpdateProfileRequest& request = server_.state.update_profiles[0];
  EXPECT_FALSE(request.has_first_name());
  EXPECT_FALSE(request.has_email());
  ASSERT_TRUE(request.has_last_name());
  EXPECT_EQ(request.last_name(), "Byron");
}

TEST_F(CliTest, ProfileUpdateErrorIsPrintedWithItsCode) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.fail_next =
        grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "email is already registered");
  }
  const Outcome outcome = Run({"profile", "update", "--email", "taken@example.com"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "tollgate: UpdateProfile: ALREADY_EXISTS: email is already registered\n");
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  ASSERT_EQ(server_.state.update_profiles.size(), 1u);
  EXPECT_EQ(server_.state.update_profiles[0].email(), "taken@example.com");
  EXPECT_FALSE(server_.state.update_profiles[0].has_first_name());
}

TEST_F(CliTest, PasswordChangeReplacesTheTokenFileWithTheFreshPair) {
  LogIn();
  const Outcome outcome = Run({"password", "change"},
                              std::string(testing::kFakePassword) + "\nthe new password\n");
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(outcome.out,
            "{" + Saved("access_token") +
                ",\"token_type\":\"Bearer\",\"expires_in\":\"900\"," + Saved("refresh_token") +
                ",\"refresh_expires_in\":\"3600\",\"user\":" +
                UserJson("user-1", "ada@example.com") + "}\n");
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    ASSERT_EQ(server_.state.change_passwords.size(), 1u);
    EXPECT_EQ(server_.state.change_passwords[0].current_password(), testing::kFakePassword);
    EXPECT_EQ(server_.state.change_passwords[0].new_password(), "the new password");
  }
  absl::StatusOr<SavedTokens> saved = FileTokenStore(token_path_).Load();
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->access_token, "access-2");
  EXPECT_EQ(saved->refresh_token, "tgr_refresh-2");
  EXPECT_EQ(saved->access_expires_at_unix_seconds, kNow + 900);
  // The old access token is revoked; the next call goes with the new one.
  EXPECT_EQ(Run({"me"}).exit_code, kExitSuccess);
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1", "Bearer access-2"}));
}

TEST_F(CliTest, PasswordChangeWithTheWrongPasswordKeepsTheTokenFile) {
  LogIn();
  const Outcome outcome =
      Run({"password", "change", "--password", "wrong", "--new-password", "the new password"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "tollgate: ChangePassword: PERMISSION_DENIED: wrong current password\n");
  EXPECT_EQ(FileTokenStore(token_path_).Load()->access_token, "access-1");
}

TEST_F(CliTest, PasswordResetRequestNeedsNoLogin) {
  env_.erase("HOME");
  env_.erase("TOLLGATE_TOKEN_FILE");
  const Outcome outcome = Run({"password", "reset-request", "ada@example.com"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{}\n");
  EXPECT_EQ(outcome.err, "");
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  ASSERT_EQ(server_.state.password_reset_requests.size(), 1u);
  EXPECT_EQ(server_.state.password_reset_requests[0].email(), "ada@example.com");
}

TEST_F(CliTest, PasswordResetSendsTheCodeAndTheNewPassword) {
  const Outcome outcome = Run({"password", "reset", "tgp_c0de"}, "the new password\n");
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{}\n");
  EXPECT_FALSE(std::filesystem::exists(token_path_));  // no session is started
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  ASSERT_EQ(server_.state.password_resets.size(), 1u);
  EXPECT_EQ(server_.state.password_resets[0].token(), "tgp_c0de");
  EXPECT_EQ(server_.state.password_resets[0].new_password(), "the new password");
}

TEST_F(CliTest, PasswordResetWithASpentCode) {
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.fail_next =
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "token: unknown, used or expired");
  }
  const Outcome outcome = Run({"password", "reset", "tgp_spent", "--new-password", "p4ss"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err,
            "tollgate: ResetPassword: INVALID_ARGUMENT: token: unknown, used or expired\n");
}

TEST_F(CliTest, ABadlyShapedCodeIsNotSent) {
  Outcome outcome = Run({"password", "reset", "tge_c0de", "--new-password", "p"});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  outcome = Run({"verify-email", "c0de"});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  EXPECT_EQ(outcome.err,
            "tollgate: verify-email: CODE: expected the tge_... code from the email "
            "verification mail, got 'c0de' (see 'tollgate verify-email --help')\n");
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  EXPECT_TRUE(server_.state.password_resets.empty());
  EXPECT_TRUE(server_.state.email_verifications.empty());
}

TEST_F(CliTest, EmailVerifyRequestIsAuthenticated) {
  LogIn();
  const Outcome outcome = Run({"email", "verify-request"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{}\n");
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1"}));
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  EXPECT_EQ(server_.state.email_verification_requests, 1);
}

TEST_F(CliTest, EmailVerifyPrintsTheVerifiedAccount) {
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.user_reply.set_is_verified(true);
  }
  const Outcome outcome = Run({"email", "verify", "tge_c0de"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, UserJson("user-1", "ada@example.com", true, true) + "\n");
  EXPECT_TRUE(Authorizations().empty());  // public: no token file needed
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  ASSERT_EQ(server_.state.email_verifications.size(), 1u);
  EXPECT_EQ(server_.state.email_verifications[0].token(), "tge_c0de");
}

class CliUsersListTest : public CliTest {
 protected:
  // Three pages: "" -> u1, u2; "p2" -> u3; "p3" -> u4 (the last).
  void SetUp() override {
    CliTest::SetUp();
    LogIn();
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    auto& pages = server_.state.user_pages;
    *pages[""].add_users() = testing::FakeUser("u1", "a@x.io");
    *pages[""].add_users() = testing::FakeUser("u2", "b@x.io");
    pages[""].set_next_page_token("p2");
    *pages["p2"].add_users() = testing::FakeUser("u3", "c@x.io");
    pages["p2"].set_next_page_token("p3");
    *pages["p3"].add_users() = testing::FakeUser("u4", "d@x.io");
  }

  // The page_token of every ListUsers request, and their page_size.
  std::vector<std::string> PageTokensAsked(int32_t page_size) {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    std::vector<std::string> tokens;
    for (const auth::v1::ListUsersRequest& request : server_.state.list_users) {
      EXPECT_EQ(request.page_size(), page_size);
      tokens.push_back(request.page_token());
    }
    return tokens;
  }
};

TEST_F(CliUsersListTest, OnePagePrintsItsUsersAndTheNextPageToken) {
  Outcome outcome = Run({"users", "list", "--page-size", "2"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"users\":[" + UserJson("u1", "a@x.io") + "," +
                             UserJson("u2", "b@x.io") + "],\"next_page_token\":\"p2\"}\n");
  outcome = Run({"users", "list", "--page-size", "2", "--page-token", "p3"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out,
            "{\"users\":[" + UserJson("u4", "d@x.io") + "],\"next_page_token\":\"\"}\n");
  EXPECT_EQ(PageTokensAsked(2), std::vector<std::string>({"", "p3"}));
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1", "Bearer access-1"}));
}

TEST_F(CliUsersListTest, AllFollowsTheTokensAndPrintsEveryUser) {
  const Outcome outcome = Run({"users", "list", "--all", "--page-size", "2"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"users\":[" + UserJson("u1", "a@x.io") + "," +
                             UserJson("u2", "b@x.io") + "," + UserJson("u3", "c@x.io") + "," +
                             UserJson("u4", "d@x.io") + "],\"next_page_token\":\"\"}\n");
  EXPECT_EQ(PageTokensAsked(2), std::vector<std::string>({"", "p2", "p3"}));
}

TEST_F(CliUsersListTest, AllStartsAtTheGivenPageToken) {
  const Outcome outcome = Run({"list-users", "--all", "--page-token", "p2"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"users\":[" + UserJson("u3", "c@x.io") + "," +
                             UserJson("u4", "d@x.io") + "],\"next_page_token\":\"\"}\n");
  EXPECT_EQ(PageTokensAsked(0), std::vector<std::string>({"p2", "p3"}));
}

TEST_F(CliUsersListTest, AllPrintsNothingWhenAPageFails) {
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.user_pages.erase("p3");
  }
  const Outcome outcome = Run({"users", "list", "--all"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err,
            "tollgate: ListUsers: INVALID_ARGUMENT: page_token: not a page token of this API\n");
}

TEST_F(CliUsersListTest, AllStopsAtATokenThatComesTwice) {
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.user_pages["p3"].set_next_page_token("p2");
  }
  const Outcome outcome = Run({"users", "list", "--all"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "tollgate: ListUsers: next_page_token 'p2' came a second time; stopped\n");
  EXPECT_EQ(PageTokensAsked(0), std::vector<std::string>({"", "p2", "p3"}));
}

TEST_F(CliTest, UsersRolesReplacesTheRoles) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.user_reply = testing::FakeUser("u2", "b@x.io");
    server_.state.user_reply.add_roles("admin");
  }
  const Outcome outcome = Run({"users", "roles", "u2", "user", "admin"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out,
            "{\"id\":\"u2\",\"email\":\"b@x.io\",\"first_name\":\"\",\"last_name\":\"\","
            "\"roles\":[\"user\",\"admin\"],\"is_active\":true,\"is_verified\":false}\n");
  EXPECT_EQ(Authorizations(), std::vector<std::string>({"Bearer access-1"}));
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  ASSERT_EQ(server_.state.set_user_roles.size(), 1u);
  EXPECT_EQ(server_.state.set_user_roles[0].user_id(), "u2");
  EXPECT_EQ(std::vector<std::string>(server_.state.set_user_roles[0].roles().begin(),
                                     server_.state.set_user_roles[0].roles().end()),
            std::vector<std::string>({"user", "admin"}));
}

TEST_F(CliTest, UsersRolesForAnUnknownUser) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.fail_next = grpc::Status(grpc::StatusCode::NOT_FOUND, "no such user");
  }
  const Outcome outcome = Run({"users", "roles", "nobody", "user"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "tollgate: SetUserRoles: NOT_FOUND: no such user\n");
}

TEST_F(CliTest, UsersActivateAndDeactivate) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.user_reply = testing::FakeUser("u2", "b@x.io");
    server_.state.user_reply.set_is_active(false);
  }
  Outcome outcome = Run({"users", "deactivate", "u2"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.out, UserJson("u2", "b@x.io", /*active=*/false) + "\n");
  outcome = Run({"users", "activate", "u3"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  outcome = Run({"set-active", "u4", "false"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  std::lock_guard<std::mutex> lock(server_.state.mutex);
  const auto& requests = server_.state.set_user_actives;
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].user_id(), "u2");
  EXPECT_FALSE(requests[0].active());
  EXPECT_EQ(requests[1].user_id(), "u3");
  EXPECT_TRUE(requests[1].active());
  EXPECT_EQ(requests[2].user_id(), "u4");
  EXPECT_FALSE(requests[2].active());
}

TEST_F(CliTest, AdminCommandsWithoutTheRoleFailWithTheServersAnswer) {
  LogIn();
  {
    std::lock_guard<std::mutex> lock(server_.state.mutex);
    server_.state.fail_next =
        grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "the method needs role admin");
  }
  const Outcome outcome = Run({"users", "activate", "u2"});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err,
            "tollgate: SetUserActive: PERMISSION_DENIED: the method needs role admin\n");
}

}  // namespace
}  // namespace tollgate::cli
