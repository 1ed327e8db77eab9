// The real `tollgate` binary against the real auth_service and sum_service
// binaries on a throwaway PostgreSQL cluster: register, login, refresh, jwks,
// logout, what happens to a session after logout, the SumService commands,
// and the account commands (profile, password change and reset, email
// verification, administration) with the mailed codes read from a real SMTP
// server the test starts, with exact exit statuses and output.
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
#include <set>
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
#include "tests/support/program_run.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/test_keys.h"

namespace tollgate::cli {
namespace {

using tollgate::testing::ChildProcess;
using tollgate::testing::PostgresCluster;
using tollgate::testing::SinkMessage;
using tollgate::testing::SmtpSink;
using testing::TempDir;

// What `tollgate` says once AuthService refuses the saved refresh token.
constexpr char kSessionEnded[] =
    "tollgate: session ended: Refresh: UNAUTHENTICATED: invalid refresh token (run 'tollgate "
    "login')\n";
constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kCliBinary[] = TOLLGATE_CLI_BIN;
constexpr char kPassword[] = "correct horse battery staple";
constexpr char kAdminEmail[] = "root@example.com";
constexpr char kAdminPassword[] = "admin password for the cli test";
constexpr auto kStartTimeout = std::chrono::seconds(60);
// How long a mailed code may take: the outbox is polled every second.
constexpr auto kMailTimeout = std::chrono::seconds(20);

using Outcome = tollgate::testing::ProgramOutcome;
using tollgate::testing::ReadFileText;

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
    // The codes of the account commands come by mail.
    auto sink = SmtpSink::Start();
    ASSERT_TRUE(sink.ok()) << "the SMTP sink did not start: " << sink.status();
    sink_ = sink->release();
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
                                           "AUTH_SMTP_URL=" + sink_->url(),
                                           "AUTH_MAIL_FROM=no-reply@tollgate.test",
                                           "AUTH_MAIL_POLL_INTERVAL=1",
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
    delete sink_;
    sink_ = nullptr;
    delete dir_;
    dir_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(auth_service_, nullptr) << "no auth_service";
    ASSERT_NE(sum_service_, nullptr) << "no sum_service";
    ASSERT_NE(sink_, nullptr) << "no SMTP sink";
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
    return tollgate::testing::RunProgram(kCliBinary, args, env, home_.path(), stdin_text);
  }

  std::string Placeholder() const { return "<saved to " + token_path_ + ">"; }

  nlohmann::json SavedFile() const { return nlohmann::json::parse(ReadFileText(token_path_)); }

  // The `nth` code (0: the first) starting with `prefix` mailed to
  // `address`, waiting for it at most kMailTimeout; "" (and a failure) if it
  // did not come.
  static std::string CodeMailedTo(const std::string& address, const std::string& prefix,
                                  size_t nth = 0) {
    const auto deadline = std::chrono::steady_clock::now() + kMailTimeout;
    while (true) {
      std::vector<std::string> codes;
      for (const SinkMessage& message : sink_->Messages()) {
        if (message.rcpt_to.size() != 1 || message.rcpt_to[0] != address) continue;
        const std::string code = tollgate::testing::CodeOnItsOwnLine(message.raw, prefix);
        if (!code.empty()) codes.push_back(code);
      }
      if (codes.size() > nth) return codes[nth];
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no " << prefix << "... code #" << nth << " mailed to " << address;
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  static PostgresCluster* cluster_;
  static ChildProcess* auth_service_;
  static ChildProcess* sum_service_;
  static TempDir* dir_;
  static SmtpSink* sink_;
  static std::string auth_address_;
  static std::string sum_address_;
  TempDir home_;
  std::string token_path_;
};

PostgresCluster* CliEndToEndTest::cluster_ = nullptr;
ChildProcess* CliEndToEndTest::auth_service_ = nullptr;
ChildProcess* CliEndToEndTest::sum_service_ = nullptr;
TempDir* CliEndToEndTest::dir_ = nullptr;
SmtpSink* CliEndToEndTest::sink_ = nullptr;
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
  // accepts (`whoami`: the older name of `me`).
  Outcome whoami = Tollgate({"whoami"});
  EXPECT_EQ(whoami.exit_code, 0) << whoami.err;
  EXPECT_EQ(whoami.err, "");
  EXPECT_EQ(nlohmann::json::parse(whoami.out)["id"], user_id);

  // logout: revokes the session and deletes the file.
  const std::string before_logout = ReadFileText(token_path_);
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
  EXPECT_EQ(revoked.err, kSessionEnded);

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

// A user's own account, end to end with the mailed codes: me, profile
// update, email verification, password change (the old session ends),
// password reset by mail (every session ends), login with each password.
TEST_F(CliEndToEndTest, AccountCommandsWithMailedCodes) {
  constexpr char kEmail[] = "mary@example.com";
  constexpr char kSecondPassword[] = "a second passphrase for mary";
  constexpr char kThirdPassword[] = "a third passphrase, after the reset";
  Outcome registered = Tollgate({"register", kEmail, "--first-name", "Mary", "--last-name",
                                 "Shelley", "--password", kPassword});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  const nlohmann::json user = nlohmann::json::parse(registered.out)["user"];
  const std::string user_id = user["id"];
  const std::string created_at = user["created_at"];
  const std::string updated_at = user["updated_at"];
  // RFC 3339 in UTC, whole seconds: "2025-01-02T03:04:05Z".
  EXPECT_EQ(created_at.size(), 20u) << created_at;
  EXPECT_EQ(created_at.back(), 'Z') << created_at;

  // me: the account, every field, in the proto's order.
  Outcome me = Tollgate({"me"});
  ASSERT_EQ(me.exit_code, 0) << me.err;
  EXPECT_EQ(me.err, "");
  EXPECT_EQ(me.out, "{\"id\":\"" + user_id +
                        "\",\"email\":\"mary@example.com\",\"first_name\":\"Mary\","
                        "\"last_name\":\"Shelley\",\"roles\":[\"user\"],\"is_active\":true,"
                        "\"is_verified\":false,\"created_at\":\"" +
                        created_at + "\",\"updated_at\":\"" + updated_at + "\"}\n");

  // profile update: only the given field changes.
  Outcome updated = Tollgate({"profile", "update", "--last-name", "Godwin"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(updated.err, "");
  nlohmann::json reply = nlohmann::json::parse(updated.out);
  EXPECT_EQ(reply["id"], user_id);
  EXPECT_EQ(reply["email"], kEmail);
  EXPECT_EQ(reply["first_name"], "Mary");
  EXPECT_EQ(reply["last_name"], "Godwin");
  EXPECT_EQ(reply["is_verified"], false);
  me = Tollgate({"me"});
  ASSERT_EQ(me.exit_code, 0) << me.err;
  EXPECT_EQ(nlohmann::json::parse(me.out)["last_name"], "Godwin");

  // email verify-request, then the mailed tge_ code.
  Outcome verify_request = Tollgate({"email", "verify-request"});
  ASSERT_EQ(verify_request.exit_code, 0) << verify_request.err;
  EXPECT_EQ(verify_request.out, "{}\n");
  EXPECT_EQ(verify_request.err, "");
  const std::string verify_code = CodeMailedTo(kEmail, "tge_");
  ASSERT_FALSE(verify_code.empty());
  Outcome verified = Tollgate({"email", "verify", verify_code});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(verified.err, "");
  reply = nlohmann::json::parse(verified.out);
  EXPECT_EQ(reply["id"], user_id);
  EXPECT_EQ(reply["is_verified"], true);
  me = Tollgate({"me"});
  ASSERT_EQ(me.exit_code, 0) << me.err;
  EXPECT_EQ(nlohmann::json::parse(me.out)["is_verified"], true);
  // A code works once.
  Outcome reused = Tollgate({"email", "verify", verify_code});
  EXPECT_EQ(reused.exit_code, 1);
  EXPECT_EQ(reused.out, "");
  EXPECT_EQ(reused.err, "tollgate: VerifyEmail: INVALID_ARGUMENT: invalid or expired code\n");

  // password change: a wrong current password is refused...
  Outcome wrong_current = Tollgate({"password", "change"}, "",
                                   {"TOLLGATE_PASSWORD=not the password",
                                    std::string("TOLLGATE_NEW_PASSWORD=") + kSecondPassword});
  EXPECT_EQ(wrong_current.exit_code, 1);
  EXPECT_EQ(wrong_current.out, "");
  EXPECT_EQ(wrong_current.err,
            "tollgate: ChangePassword: PERMISSION_DENIED: current_password: does not match\n");
  // ...the right one (current, then new, on stdin) replaces the token file
  // with the fresh pair, and the old session is over.
  const std::string before_change = ReadFileText(token_path_);
  const std::string old_refresh = SavedFile()["refresh_token"];
  Outcome changed = Tollgate({"password", "change"},
                             std::string(kPassword) + "\n" + kSecondPassword + "\n");
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(changed.err, "");
  reply = nlohmann::json::parse(changed.out);
  EXPECT_EQ(reply["access_token"], Placeholder());
  EXPECT_EQ(reply["refresh_token"], Placeholder());
  EXPECT_EQ(reply["user"]["id"], user_id);
  EXPECT_EQ(ModeOf(token_path_), 0600u);
  const std::string new_refresh = SavedFile()["refresh_token"];
  EXPECT_EQ(new_refresh.rfind("tgr_", 0), 0u);
  EXPECT_NE(new_refresh, old_refresh);
  EXPECT_EQ(SavedFile()["email"], kEmail);
  me = Tollgate({"me"});
  EXPECT_EQ(me.exit_code, 0) << me.err;
  // The file from before the change, in a place of its own: its refresh
  // token was revoked by the change.
  const std::string old_file = home_.path() + "/before_change.json";
  {
    std::ofstream old(old_file);
    old << before_change;
  }
  ASSERT_EQ(::chmod(old_file.c_str(), 0600), 0);
  Outcome old_session = Tollgate({"--token-file", old_file, "refresh"});
  EXPECT_EQ(old_session.exit_code, 1);
  EXPECT_EQ(old_session.out, "");
  EXPECT_EQ(old_session.err, kSessionEnded);
  // The new pair still refreshes.
  Outcome refreshed = Tollgate({"refresh"});
  EXPECT_EQ(refreshed.exit_code, 0) << refreshed.err;

  // password reset-request answers {} (for unknown emails too), and mails
  // a tgp_ code; password reset sets the new password.
  Outcome reset_request = Tollgate({"password", "reset-request", kEmail});
  ASSERT_EQ(reset_request.exit_code, 0) << reset_request.err;
  EXPECT_EQ(reset_request.out, "{}\n");
  EXPECT_EQ(reset_request.err, "");
  Outcome unknown_request = Tollgate({"password", "reset-request", "nobody@example.com"});
  EXPECT_EQ(unknown_request.exit_code, 0) << unknown_request.err;
  EXPECT_EQ(unknown_request.out, "{}\n");
  const std::string reset_code = CodeMailedTo(kEmail, "tgp_");
  ASSERT_FALSE(reset_code.empty());
  Outcome reset = Tollgate({"password", "reset", reset_code}, std::string(kThirdPassword) + "\n");
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_EQ(reset.out, "{}\n");
  EXPECT_EQ(reset.err, "");
  Outcome reset_again = Tollgate({"password", "reset", reset_code}, "yet another passphrase\n");
  EXPECT_EQ(reset_again.exit_code, 1);
  EXPECT_EQ(reset_again.err, "tollgate: ResetPassword: INVALID_ARGUMENT: invalid or expired code\n");
  // The reset ended every session, the saved one included.
  Outcome after_reset = Tollgate({"refresh"});
  EXPECT_EQ(after_reset.exit_code, 1);
  EXPECT_EQ(after_reset.out, "");
  EXPECT_EQ(after_reset.err, kSessionEnded);

  // login: the passwords before the reset fail, the new one works.
  for (const char* old_password : {kSecondPassword, kPassword}) {
    Outcome old_login = Tollgate({"login", kEmail}, std::string(old_password) + "\n");
    EXPECT_EQ(old_login.exit_code, 1) << old_password;
    EXPECT_EQ(old_login.out, "");
    EXPECT_EQ(old_login.err, "tollgate: Login: UNAUTHENTICATED: invalid email or password\n");
  }
  Outcome logged_in = Tollgate({"login", kEmail}, std::string(kThirdPassword) + "\n");
  ASSERT_EQ(logged_in.exit_code, 0) << logged_in.err;
  EXPECT_EQ(logged_in.err, "");
  reply = nlohmann::json::parse(logged_in.out);
  EXPECT_EQ(reply["user"]["id"], user_id);
  EXPECT_EQ(reply["user"]["last_name"], "Godwin");
  EXPECT_EQ(reply["user"]["is_verified"], true);
  me = Tollgate({"me"});
  EXPECT_EQ(me.exit_code, 0) << me.err;
}

// The bootstrap admin manages a user: users list, roles, deactivate and
// activate (login refused, then allowed), an unknown role, and the last
// active admin who cannot be deactivated or demoted.
TEST_F(CliEndToEndTest, AdminCommands) {
  constexpr char kEmail[] = "ida@example.com";
  const std::string user_file = "TOLLGATE_TOKEN_FILE=" + home_.path() + "/ida.json";
  const std::string admin_file = "TOLLGATE_TOKEN_FILE=" + home_.path() + "/admin.json";
  const auto as_user = [&](const std::vector<std::string>& args, const std::string& in = "") {
    return Tollgate(args, in, {user_file});
  };
  const auto as_admin = [&](const std::vector<std::string>& args) {
    return Tollgate(args, "", {admin_file});
  };

  Outcome registered = as_user({"register", kEmail, "--first-name", "Ida", "--last-name", "Rhodes",
                                "--password", kPassword});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  const std::string user_id = nlohmann::json::parse(registered.out)["user"]["id"];
  Outcome admin_login = Tollgate({"login", kAdminEmail}, std::string(kAdminPassword) + "\n",
                                 {admin_file});
  ASSERT_EQ(admin_login.exit_code, 0) << admin_login.err;
  const std::string admin_id = nlohmann::json::parse(admin_login.out)["user"]["id"];

  // A user may not list users.
  Outcome not_admin = as_user({"users", "list"});
  EXPECT_EQ(not_admin.exit_code, 1);
  EXPECT_EQ(not_admin.out, "");
  EXPECT_EQ(not_admin.err,
            "tollgate: ListUsers: PERMISSION_DENIED: method "
            "tollgate.auth.v1.AuthService/ListUsers requires role 'admin'\n");

  // users list --all, one user a page: every account, once, Ida's included.
  Outcome listed = as_admin({"users", "list", "--all", "--page-size", "1"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.err, "");
  nlohmann::json reply = nlohmann::json::parse(listed.out);
  EXPECT_EQ(reply["next_page_token"], "");
  std::set<std::string> ids;
  bool found = false;
  for (const nlohmann::json& entry : reply["users"]) {
    EXPECT_TRUE(ids.insert(entry["id"].get<std::string>()).second) << "twice: " << entry;
    if (entry["id"] == user_id) {
      found = true;
      EXPECT_EQ(entry["email"], kEmail);
      EXPECT_EQ(entry["roles"], nlohmann::json::array({"user"}));
      EXPECT_EQ(entry["is_active"], true);
    }
  }
  EXPECT_TRUE(found) << listed.out;
  EXPECT_TRUE(ids.count(admin_id)) << listed.out;
  // One page of the server's default size holds the same accounts here.
  Outcome one_page = as_admin({"users", "list"});
  ASSERT_EQ(one_page.exit_code, 0) << one_page.err;
  EXPECT_EQ(nlohmann::json::parse(one_page.out)["users"].size(), ids.size());

  // users roles: admin granted, then taken back.
  Outcome promoted = as_admin({"users", "roles", user_id, "user", "admin"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  EXPECT_EQ(promoted.err, "");
  reply = nlohmann::json::parse(promoted.out);
  EXPECT_EQ(reply["id"], user_id);
  EXPECT_EQ(reply["roles"], nlohmann::json::array({"admin", "user"}));
  // The roles travel in the access token: the next refresh carries them.
  Outcome promoted_refresh = as_user({"refresh"});
  ASSERT_EQ(promoted_refresh.exit_code, 0) << promoted_refresh.err;
  EXPECT_EQ(nlohmann::json::parse(promoted_refresh.out)["user"]["roles"],
            nlohmann::json::array({"admin", "user"}));
  Outcome listed_by_user = as_user({"users", "list"});
  EXPECT_EQ(listed_by_user.exit_code, 0) << listed_by_user.err;
  Outcome demoted = as_admin({"users", "roles", user_id, "user"});
  ASSERT_EQ(demoted.exit_code, 0) << demoted.err;
  EXPECT_EQ(nlohmann::json::parse(demoted.out)["roles"], nlohmann::json::array({"user"}));
  Outcome demoted_refresh = as_user({"refresh"});
  ASSERT_EQ(demoted_refresh.exit_code, 0) << demoted_refresh.err;
  Outcome not_any_more = as_user({"users", "list"});
  EXPECT_EQ(not_any_more.exit_code, 1);
  EXPECT_EQ(not_any_more.err, not_admin.err);

  // An unknown role: the server names the allowed ones.
  Outcome unknown_role = as_admin({"users", "roles", user_id, "user", "superuser"});
  EXPECT_EQ(unknown_role.exit_code, 1);
  EXPECT_EQ(unknown_role.out, "");
  EXPECT_EQ(unknown_role.err,
            "tollgate: SetUserRoles: INVALID_ARGUMENT: roles: unknown role (allowed: admin, "
            "user)\n");

  // users deactivate: login refused, the saved session over.
  Outcome deactivated = as_admin({"users", "deactivate", user_id});
  ASSERT_EQ(deactivated.exit_code, 0) << deactivated.err;
  EXPECT_EQ(deactivated.err, "");
  reply = nlohmann::json::parse(deactivated.out);
  EXPECT_EQ(reply["id"], user_id);
  EXPECT_EQ(reply["is_active"], false);
  Outcome refused = as_user({"login", kEmail}, std::string(kPassword) + "\n");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.err, "tollgate: Login: PERMISSION_DENIED: account is deactivated\n");
  Outcome ended = as_user({"refresh"});
  EXPECT_EQ(ended.exit_code, 1);
  EXPECT_EQ(ended.out, "");
  EXPECT_EQ(ended.err, kSessionEnded);

  // users activate: login works again.
  Outcome activated = as_admin({"users", "activate", user_id});
  ASSERT_EQ(activated.exit_code, 0) << activated.err;
  EXPECT_EQ(nlohmann::json::parse(activated.out)["is_active"], true);
  Outcome back = as_user({"login", kEmail}, std::string(kPassword) + "\n");
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(nlohmann::json::parse(back.out)["user"]["is_active"], true);
  Outcome me = as_user({"me"});
  EXPECT_EQ(me.exit_code, 0) << me.err;

  // The bootstrap admin is the last active admin: neither deactivated nor
  // demoted.
  Outcome last_admin = as_admin({"users", "deactivate", admin_id});
  EXPECT_EQ(last_admin.exit_code, 1);
  EXPECT_EQ(last_admin.out, "");
  EXPECT_EQ(last_admin.err,
            "tollgate: SetUserActive: FAILED_PRECONDITION: active: cannot deactivate the last "
            "active admin\n");
  Outcome last_demoted = as_admin({"users", "roles", admin_id, "user"});
  EXPECT_EQ(last_demoted.exit_code, 1);
  EXPECT_EQ(last_demoted.err,
            "tollgate: SetUserRoles: FAILED_PRECONDITION: roles: cannot remove the admin role "
            "from the last active admin\n");
  Outcome still_admin = as_admin({"users", "list", "--page-size", "1"});
  EXPECT_EQ(still_admin.exit_code, 0) << still_admin.err;
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
