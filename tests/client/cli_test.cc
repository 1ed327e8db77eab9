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

#include "client/cli/token_file.h"
#include "tests/client/fake_services.h"
#include "tests/client/temp_dir.h"
#include "tests/support/fake_clock.h"

namespace tollgate::cli {
namespace {

using testing::FakeServer;
using testing::TempDir;

constexpr int64_t kNow = 1'800'000'000;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

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
    std::istringstream in(stdin_text);
    std::ostringstream out;
    std::ostringstream err;
    Cli cli(CliEnvironment{
        .env = [this](const std::string& name) -> std::optional<std::string> {
          const auto it = env_.find(name);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        },
        .in = in,
        .out = out,
        .err = err,
        .stdin_is_terminal = false,
        .clock = clock_,
    });
    Outcome outcome;
    outcome.exit_code = cli.Run(args);
    outcome.out = out.str();
    outcome.err = err.str();
    return outcome;
  }

  // As after `tollgate login`: pair 1 saved, access token valid 600 s more.
  void LogIn() {
    SavedTokens tokens = SavedTokens::FromAuthResponse(server_.state.Issue(), kNow);
    tokens.access_expires_at_unix_seconds = kNow + 600;
    ASSERT_TRUE(TokenFile(token_path_).Save(tokens).ok());
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
    outcome = Run({std::string(command.name), "--help"});
    EXPECT_EQ(outcome.exit_code, kExitSuccess) << command.name;
    EXPECT_EQ(outcome.out, command.HelpText());
  }
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
  absl::StatusOr<SavedTokens> saved = TokenFile(token_path_).Load();
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
  const Outcome outcome = Run({"list-users"});
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
  EXPECT_EQ(TokenFile(token_path_).Load()->refresh_token, "tgr_refresh-2");
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
  EXPECT_EQ(outcome.err, "tollgate: Refresh: UNAUTHENTICATED: invalid refresh token\n");
}

TEST_F(CliTest, RefreshSavesTheNewPair) {
  LogIn();
  const Outcome outcome = Run({"refresh"});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_NE(outcome.out.find(Saved("access_token")), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find(Saved("refresh_token")), std::string::npos) << outcome.out;
  EXPECT_EQ(TokenFile(token_path_).Load()->refresh_token, "tgr_refresh-2");
}

TEST_F(CliTest, ChangePasswordSavesTheFreshPair) {
  LogIn();
  const Outcome outcome = Run({"change-password"}, std::string(testing::kFakePassword) +
                                                       "\nthe new password\n");
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(TokenFile(token_path_).Load()->access_token, "access-2");
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

}  // namespace
}  // namespace tollgate::cli
