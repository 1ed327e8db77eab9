// The real `tollgate` binary against the real auth_service and sum_service
// binaries on a throwaway PostgreSQL cluster: register, login, refresh, jwks,
// logout, what happens to a session after logout, and the SumService
// commands, with exact exit statuses and output.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "common/token/base64url.h"
#include "common/token/jwk.h"
#include "tests/client/temp_dir.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/test_keys.h"

namespace tollgate::cli {
namespace {

using tollgate::testing::ChildProcess;
using tollgate::testing::PostgresCluster;
using testing::TempDir;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kCliBinary[] = TOLLGATE_CLI_BIN;
constexpr char kPassword[] = "correct horse battery staple";
constexpr char kAdminEmail[] = "root@example.com";
constexpr char kAdminPassword[] = "admin password for the cli test";
constexpr auto kStartTimeout = std::chrono::seconds(60);

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class CliEndToEndTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = PostgresCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();

    dir_ = new TempDir();
    ASSERT_FALSE(dir_->path().empty());
    // An ES256 key, so that GetJwks publishes something to compare with.
    const std::string key_path = dir_->path() + "/signing_key.pem";
    {
      std::ofstream key(key_path);
      key << tollgate::testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256);
    }
    ASSERT_EQ(::chmod(key_path.c_str(), 0600), 0);
    auto process = ChildProcess::Start(kAuthServiceBinary, {},
                                       {
                                           "AUTH_LISTEN=127.0.0.1:0",
                                           "AUTH_DATABASE_URL=" + cluster_->url(),
                                           "AUTH_SIGNING_KEYS=" + key_path,
                                           "AUTH_ARGON2_MEMORY_KIB=8192",
                                           "AUTH_ARGON2_ITERATIONS=1",
                                           "AUTH_HASH_THREADS=2",
                                           "AUTH_HASH_QUEUE=64",
                                           "AUTH_DATABASE_POOL_SIZE=4",
                                           std::string("AUTH_BOOTSTRAP_ADMIN_EMAIL=") +
                                               kAdminEmail,
                                           std::string("AUTH_BOOTSTRAP_ADMIN_PASSWORD=") +
                                               kAdminPassword,
                                       });
    ASSERT_TRUE(process.ok()) << process.status();
    auth_service_ = process->release();
    auto port = auth_service_->WaitForPort(kStartTimeout);
    ASSERT_TRUE(port.ok()) << "auth_service did not come up: " << port.status();
    auth_address_ = "127.0.0.1:" + std::to_string(*port);

    // SumService verifies with the keys it fetches from AuthService.
    process = ChildProcess::Start(kSumServiceBinary, {},
                                  {
                                      "SUM_LISTEN=127.0.0.1:0",
                                      "SUM_KEYS_SOURCE=grpc://" + auth_address_,
                                  });
    ASSERT_TRUE(process.ok()) << process.status();
    sum_service_ = process->release();
    port = sum_service_->WaitForPort(kStartTimeout);
    ASSERT_TRUE(port.ok()) << "sum_service did not come up: " << port.status();
    sum_address_ = "127.0.0.1:" + std::to_string(*port);
  }

  static void TearDownTestSuite() {
    if (sum_service_ != nullptr) {
      EXPECT_TRUE(sum_service_->Terminate().ok());
      EXPECT_EQ(sum_service_->ExitCode(), 0);
    }
    delete sum_service_;
    sum_service_ = nullptr;
    if (auth_service_ != nullptr) {
      EXPECT_TRUE(auth_service_->Terminate().ok());
      EXPECT_EQ(auth_service_->ExitCode(), 0);
    }
    delete auth_service_;
    auth_service_ = nullptr;
    delete dir_;
    dir_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(auth_service_, nullptr) << "no auth_service";
    ASSERT_NE(sum_service_, nullptr) << "no sum_service";
    ASSERT_FALSE(home_.path().empty());
    token_path_ = home_.path() + "/.config/tollgate/tokens.json";
  }

  // Runs the real binary with exactly this environment (plus `extra_env`),
  // `stdin_text` as its stdin, and returns its exit status and output.
  Outcome Tollgate(const std::vector<std::string>& args, const std::string& stdin_text = "",
                   const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> env = {
        "HOME=" + home_.path(),
        "TOLLGATE_AUTH_ADDR=" + auth_address_,
        "TOLLGATE_SUM_ADDR=" + sum_address_,
    };
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    const std::string in_path = home_.path() + "/stdin.txt";
    const std::string out_path = home_.path() + "/stdout.txt";
    const std::string err_path = home_.path() + "/stderr.txt";
    {
      std::ofstream in(in_path, std::ios::trunc);
      in << stdin_text;
    }
    std::vector<char*> argv = {const_cast<char*>(kCliBinary)};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid == 0) {
      const int in = ::open(in_path.c_str(), O_RDONLY);
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      ::dup2(in, STDIN_FILENO);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      ::execve(kCliBinary, argv.data(), envp.data());
      ::_exit(127);
    }
    Outcome outcome;
    EXPECT_GT(pid, 0) << "fork failed";
    if (pid <= 0) return outcome;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    outcome.out = ReadFile(out_path);
    outcome.err = ReadFile(err_path);
    return outcome;
  }

  std::string Placeholder() const { return "<saved to " + token_path_ + ">"; }

  nlohmann::json SavedFile() const { return nlohmann::json::parse(ReadFile(token_path_)); }

  static PostgresCluster* cluster_;
  static ChildProcess* auth_service_;
  static ChildProcess* sum_service_;
  static TempDir* dir_;
  static std::string auth_address_;
  static std::string sum_address_;
  TempDir home_;
  std::string token_path_;
};

PostgresCluster* CliEndToEndTest::cluster_ = nullptr;
ChildProcess* CliEndToEndTest::auth_service_ = nullptr;
ChildProcess* CliEndToEndTest::sum_service_ = nullptr;
TempDir* CliEndToEndTest::dir_ = nullptr;
std::string CliEndToEndTest::auth_address_;
std::string CliEndToEndTest::sum_address_;

TEST_F(CliEndToEndTest, RegisterLoginRefreshJwksLogout) {
  // register: password from the environment; the pair is saved, not shown.
  Outcome registered =
      Tollgate({"register", "ada@example.com", "--first-name", "Ada", "--last-name", "Lovelace"},
               "", {std::string("TOLLGATE_PASSWORD=") + kPassword});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_EQ(registered.err, "");
  nlohmann::json reply = nlohmann::json::parse(registered.out);
  EXPECT_EQ(registered.out.back(), '\n');
  EXPECT_EQ(std::count(registered.out.begin(), registered.out.end(), '\n'), 1);
  EXPECT_EQ(reply["access_token"], Placeholder());
  EXPECT_EQ(reply["refresh_token"], Placeholder());
  EXPECT_EQ(reply["token_type"], "Bearer");
  EXPECT_EQ(reply["expires_in"], "900");
  EXPECT_EQ(reply["user"]["email"], "ada@example.com");
  EXPECT_EQ(reply["user"]["first_name"], "Ada");
  EXPECT_EQ(reply["user"]["last_name"], "Lovelace");
  EXPECT_EQ(reply["user"]["roles"], nlohmann::json::array({"user"}));
  EXPECT_EQ(reply["user"]["is_active"], true);
  const std::string user_id = reply["user"]["id"];
  EXPECT_EQ(user_id.size(), 36u);

  EXPECT_EQ(ModeOf(token_path_), 0600u);
  EXPECT_EQ(ModeOf(home_.path() + "/.config/tollgate"), 0700u);
  nlohmann::json saved = SavedFile();
  const std::string registered_refresh = saved["refresh_token"];
  EXPECT_EQ(registered_refresh.rfind("tgr_", 0), 0u);
  EXPECT_EQ(saved["email"], "ada@example.com");
  // Neither token appears in the output.
  EXPECT_EQ(registered.out.find(registered_refresh), std::string::npos);
  EXPECT_EQ(registered.out.find(saved["access_token"].get<std::string>()), std::string::npos);

  // login: password as one line of stdin.
  Outcome logged_in = Tollgate({"login", "ada@example.com"}, std::string(kPassword) + "\n");
  ASSERT_EQ(logged_in.exit_code, 0) << logged_in.err;
  EXPECT_EQ(logged_in.err, "");
  EXPECT_EQ(nlohmann::json::parse(logged_in.out)["user"]["id"], user_id);
  saved = SavedFile();
  const std::string login_refresh = saved["refresh_token"];
  EXPECT_NE(login_refresh, registered_refresh);

  // refresh: rotates and saves; --show-tokens prints the new pair.
  Outcome refreshed = Tollgate({"refresh", "--show-tokens"});
  ASSERT_EQ(refreshed.exit_code, 0) << refreshed.err;
  reply = nlohmann::json::parse(refreshed.out);
  saved = SavedFile();
  const std::string refreshed_refresh = saved["refresh_token"];
  EXPECT_NE(refreshed_refresh, login_refresh);
  EXPECT_EQ(reply["refresh_token"], refreshed_refresh);
  EXPECT_EQ(reply["access_token"], saved["access_token"]);
  EXPECT_EQ(ModeOf(token_path_), 0600u);

  // jwks: the published key is the one that signed the saved access token.
  Outcome jwks = Tollgate({"jwks"});
  ASSERT_EQ(jwks.exit_code, 0) << jwks.err;
  const nlohmann::json key_set =
      nlohmann::json::parse(nlohmann::json::parse(jwks.out)["jwks_json"].get<std::string>());
  ASSERT_EQ(key_set["keys"].size(), 1u) << jwks.out;
  const nlohmann::json& key = key_set["keys"][0];
  EXPECT_EQ(key["kty"], "EC");
  EXPECT_EQ(key["crv"], "P-256");
  EXPECT_FALSE(key.contains("d")) << "private key published";
  const std::string access_token = saved["access_token"];
  const std::optional<std::string> header =
      Base64UrlDecode(access_token.substr(0, access_token.find('.')));
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(nlohmann::json::parse(*header)["kid"], key["kid"]);

  // An authenticated AuthService call carries a token the real interceptor
  // accepts (GetCurrentUser may not be implemented yet: anything but
  // UNAUTHENTICATED will do).
  Outcome whoami = Tollgate({"whoami"});
  EXPECT_EQ(whoami.err.find("UNAUTHENTICATED"), std::string::npos) << whoami.err;

  // logout: revokes the session and deletes the file.
  const std::string before_logout = ReadFile(token_path_);
  Outcome logged_out = Tollgate({"logout"});
  ASSERT_EQ(logged_out.exit_code, 0) << logged_out.err;
  EXPECT_EQ(logged_out.out, "{}\n");
  EXPECT_EQ(logged_out.err, "");
  EXPECT_FALSE(std::filesystem::exists(token_path_));

  // Without the file: not logged in.
  Outcome no_file = Tollgate({"refresh"});
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_EQ(no_file.out, "");
  EXPECT_EQ(no_file.err, "tollgate: not logged in: no token file at " + token_path_ +
                             " (run 'tollgate login')\n");

  // With the old file put back: its refresh token was revoked by logout.
  {
    std::ofstream restore(token_path_);
    restore << before_logout;
  }
  ASSERT_EQ(::chmod(token_path_.c_str(), 0600), 0);
  Outcome revoked = Tollgate({"refresh"});
  EXPECT_EQ(revoked.exit_code, 1);
  EXPECT_EQ(revoked.out, "");
  EXPECT_EQ(revoked.err, "tollgate: Refresh: UNAUTHENTICATED: invalid refresh token\n");

  // Logout is idempotent (RFC 7009): logging out a revoked session is OK.
  Outcome again = Tollgate({"logout"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(CliEndToEndTest, WrongPasswordAndTakenEmail) {
  Outcome first = Tollgate({"register", "grace@example.com", "--first-name", "Grace",
                            "--last-name", "Hopper", "--password", kPassword});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  Outcome wrong = Tollgate({"login", "grace@example.com"}, "not the password\n");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.out, "");
  EXPECT_EQ(wrong.err, "tollgate: Login: UNAUTHENTICATED: invalid email or password\n");

  Outcome taken = Tollgate({"register", "GRACE@example.com", "--first-name", "G", "--last-name",
                            "H", "--password", kPassword});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_EQ(taken.err,
            "tollgate: Register: ALREADY_EXISTS: email: an account with this email already "
            "exists\n");
}

TEST_F(CliEndToEndTest, RefusesATokenFileOthersCanRead) {
  Outcome registered = Tollgate({"register", "alan@example.com", "--first-name", "Alan",
                                 "--last-name", "Turing", "--password", kPassword});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  ASSERT_EQ(::chmod(token_path_.c_str(), 0644), 0);
  Outcome refused = Tollgate({"refresh"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err, "tollgate: permissions 0644 for token file " + token_path_ +
                             " are too open: it must not be accessible by group or others "
                             "(run: chmod 600 " + token_path_ + ")\n");
}

TEST_F(CliEndToEndTest, SumCommandsAgainstTheRealSumService) {
  Outcome registered = Tollgate({"register", "emmy@example.com", "--first-name", "Emmy",
                                 "--last-name", "Noether", "--password", kPassword});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  const std::string user_id = nlohmann::json::parse(registered.out)["user"]["id"];

  // sum_service serves once it holds AuthService's keys; until then a call
  // may be turned away, so wait (at most 30 s) for the first success.
  Outcome sum;
  for (int attempt = 0; attempt < 300; ++attempt) {
    sum = Tollgate({"sum", "40", "2"});
    if (sum.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  EXPECT_EQ(sum.out, "{\"result\":\"42\"}\n");
  EXPECT_EQ(sum.err, "");

  Outcome negative = Tollgate({"sum", "-9223372036854775808", "0"});
  EXPECT_EQ(negative.exit_code, 0) << negative.err;
  EXPECT_EQ(negative.out, "{\"result\":\"-9223372036854775808\"}\n");

  Outcome overflow = Tollgate({"sum", "9223372036854775807", "1"});
  EXPECT_EQ(overflow.exit_code, 1);
  EXPECT_EQ(overflow.out, "");
  EXPECT_EQ(overflow.err.rfind("tollgate: Sum: OUT_OF_RANGE", 0), 0u) << overflow.err;

  Outcome streamed = Tollgate({"sum-stream", "-"}, "1\n2\n\n39\n");
  EXPECT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_EQ(streamed.out, "{\"result\":\"42\"}\n");

  Outcome empty_stream = Tollgate({"sum-stream"});
  EXPECT_EQ(empty_stream.exit_code, 0) << empty_stream.err;
  EXPECT_EQ(empty_stream.out, "{\"result\":\"0\"}\n");

  Outcome not_admin = Tollgate({"usage"});
  EXPECT_EQ(not_admin.exit_code, 1);
  // The server's message names the method (its exact spelling is the
  // server's business); the line around it is ours.
  EXPECT_EQ(not_admin.out, "");
  EXPECT_EQ(not_admin.err.rfind("tollgate: GetUsage: PERMISSION_DENIED: method ", 0), 0u)
      << not_admin.err;
  EXPECT_TRUE(absl::EndsWith(not_admin.err, "SumService/GetUsage requires role 'admin'\n"))
      << not_admin.err;

  // The bootstrap admin sees Emmy's calls, counted under her user id.
  Outcome admin_login = Tollgate({"login", kAdminEmail}, std::string(kAdminPassword) + "\n");
  ASSERT_EQ(admin_login.exit_code, 0) << admin_login.err;
  Outcome usage = Tollgate({"usage"});
  ASSERT_EQ(usage.exit_code, 0) << usage.err;
  const nlohmann::json reply = nlohmann::json::parse(usage.out);
  bool found = false;
  for (const nlohmann::json& entry : reply["usage"]) {
    if (entry["subject"] == user_id) found = true;
  }
  EXPECT_TRUE(found) << usage.out;

  // After logout there is no token left to send.
  Outcome logged_out = Tollgate({"logout"});
  EXPECT_EQ(logged_out.exit_code, 0) << logged_out.err;
  Outcome after = Tollgate({"sum", "1", "1"});
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_EQ(after.err, "tollgate: not logged in: no token file at " + token_path_ +
                           " (run 'tollgate login')\n");
}

TEST_F(CliEndToEndTest, UsageErrorsAndHelp) {
  Outcome help = Tollgate({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.out.rfind("Usage: tollgate [global options] COMMAND", 0), 0u) << help.out;
  EXPECT_EQ(help.err, "");

  Outcome command_help = Tollgate({"sum-stream", "--help"});
  EXPECT_EQ(command_help.exit_code, 0);
  EXPECT_EQ(command_help.out.rfind("Usage: tollgate sum-stream [VALUE... | -]\n", 0), 0u)
      << command_help.out;

  Outcome unknown = Tollgate({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err, "tollgate: unknown command 'frobnicate' (see 'tollgate --help')\n");

  Outcome bad_number = Tollgate({"sum", "1", "2x"});
  EXPECT_EQ(bad_number.exit_code, 2);
  EXPECT_EQ(bad_number.err, "tollgate: sum: B: '2x' is not an integer (see 'tollgate sum --help')\n");

  Outcome missing = Tollgate({"set-roles", "some-user"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err,
            "tollgate: set-roles: missing argument ROLE (see 'tollgate set-roles --help')\n");

  Outcome no_password = Tollgate({"login", "ada@example.com"});  // empty stdin
  EXPECT_EQ(no_password.exit_code, 2);
  EXPECT_EQ(no_password.err,
            "tollgate: login: no password: give --password, set TOLLGATE_PASSWORD, or write it "
            "as one line on stdin (see 'tollgate login --help')\n");
}

}  // namespace
}  // namespace tollgate::cli
