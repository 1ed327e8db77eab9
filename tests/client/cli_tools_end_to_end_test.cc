// The real `tollgate` binary's `health` and `token` commands against the
// real auth_service and sum_service on a throwaway PostgreSQL: health for
// each service name, an unknown name, nothing listening, and AuthService
// NOT_SERVING while its database is down and SERVING again after; a Login
// token verified with the JWK Set that auth_service serves over HTTP, and
// refused tampered, for another audience, expired, and when minted here by
// a key the service does not publish.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/token/access_token_issuer.h"
#include "common/token/base64url.h"
#include "common/token/jwk.h"
#include "nlohmann/json.hpp"
#include "tests/client/temp_dir.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/program_run.h"
#include "tests/support/test_keys.h"

extern char** environ;

namespace tollgate::cli {
namespace {

using tollgate::testing::ChildProcess;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kCliBinary[] = TOLLGATE_CLI_BIN;
constexpr char kPassword[] = "correct horse battery staple";
constexpr auto kStartTimeout = std::chrono::seconds(60);
// AuthService pings its database once a second; health follows within 2 s.
constexpr auto kHealthChangeTimeout = std::chrono::seconds(15);

using Outcome = tollgate::testing::ProgramOutcome;

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

class CliToolsEndToEndTest : public tollgate::testing::PostgresSuite {
 protected:
  static void SetUpTestSuite() {
    PostgresSuite::SetUpTestSuite();
    if (cluster_ == nullptr) return;
    dir_ = new testing::TempDir();
    const std::string key_path = dir_->path() + "/signing-key.pem";
    std::ofstream(key_path) << tollgate::testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256);

    auto http_port = tollgate::testing::PickFreePort();
    ASSERT_TRUE(http_port.ok()) << http_port.status();
    auth_http_port_ = *http_port;
    auth_service_ = Start(kAuthServiceBinary,
                          {"AUTH_LISTEN=127.0.0.1:0", "AUTH_HTTP_LISTEN=" + Address(auth_http_port_),
                           "AUTH_DATABASE_URL=" + cluster_->url(), "AUTH_SIGNING_KEYS=" + key_path,
                           "AUTH_ARGON2_MEMORY_KIB=8192", "AUTH_ARGON2_ITERATIONS=1"},
                          &auth_address_);
    if (auth_service_ == nullptr) return;
    sum_service_ = Start(kSumServiceBinary,
                         {"SUM_LISTEN=127.0.0.1:0", "SUM_KEYS_SOURCE=grpc://" + auth_address_},
                         &sum_address_);
  }

  static void TearDownTestSuite() {
    for (ChildProcess** service : {&sum_service_, &auth_service_}) {
      if (*service == nullptr) continue;
      EXPECT_TRUE((*service)->Terminate().ok());
      EXPECT_EQ((*service)->ExitCode(), 0) << (*service)->Output();
      delete *service;
      *service = nullptr;
    }
    delete dir_;
    dir_ = nullptr;
    PostgresSuite::TearDownTestSuite();
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    ASSERT_NE(auth_service_, nullptr) << "no auth_service";
    ASSERT_NE(sum_service_, nullptr) << "no sum_service";
    ASSERT_FALSE(home_.path().empty());
  }

  static ChildProcess* Start(const std::string& binary, const std::vector<std::string>& env,
                             std::string* address) {
    auto child = ChildProcess::Start(binary, {}, env);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return nullptr;
    auto port = (*child)->WaitForPort(kStartTimeout);
    EXPECT_TRUE(port.ok()) << binary << " did not come up: " << port.status();
    if (!port.ok()) return nullptr;
    *address = Address(*port);
    return child->release();
  }

  // The real binary with exactly this environment; stdout and stderr apart.
  Outcome Tollgate(const std::vector<std::string>& args) {
    const std::vector<std::string> env = {
        "HOME=" + home_.path(),
        "TOLLGATE_AUTH_ADDR=" + auth_address_,
        "TOLLGATE_SUM_ADDR=" + sum_address_,
        "TOLLGATE_PASSWORD=" + std::string(kPassword),
    };
    return tollgate::testing::RunProgram(kCliBinary, args, env, home_.path());
  }

  // `tollgate health ...` until it exits `exit_code`, at most
  // kHealthChangeTimeout; the last outcome.
  Outcome HealthUntil(int exit_code) {
    const auto deadline = std::chrono::steady_clock::now() + kHealthChangeTimeout;
    Outcome outcome = Tollgate({"health", "--timeout", "2"});
    while (outcome.exit_code != exit_code && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      outcome = Tollgate({"health", "--timeout", "2"});
    }
    return outcome;
  }

  // Registers a new account through the CLI; the AuthResponse it printed.
  nlohmann::json Register() {
    static int counter = 0;
    const std::string email = "tools-" + std::to_string(++counter) + "@example.com";
    const Outcome outcome = Tollgate({"register", email, "--first-name", "Ada", "--last-name",
                                      "Lovelace", "--show-tokens"});
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    return nlohmann::json::parse(outcome.out, nullptr, false);
  }

  std::string JwksUrl() const {
    return "http://" + Address(auth_http_port_) + "/.well-known/jwks.json";
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline ChildProcess* auth_service_ = nullptr;
  static inline ChildProcess* sum_service_ = nullptr;
  static inline std::string auth_address_;
  static inline std::string sum_address_;
  static inline int auth_http_port_ = 0;
  testing::TempDir home_;
};

TEST_F(CliToolsEndToEndTest, HealthIsServingForEveryNameOfBothServices) {
  const std::vector<std::vector<std::string>> probes = {
      {"health"},
      {"health", "--service", "tollgate.auth.v1.AuthService"},
      // The SumService name goes to the --sum address by itself.
      {"health", "--service", "tollgate.sum.v1.SumService"},
      {"health", "--addr", sum_address_},
      {"health", "--addr", auth_address_, "--service", ""},
  };
  for (const std::vector<std::string>& args : probes) {
    const Outcome outcome = Tollgate(args);
    EXPECT_EQ(outcome.exit_code, 0) << args.back() << ": " << outcome.err;
    EXPECT_EQ(outcome.out, "{\"status\":\"SERVING\"}\n");
    EXPECT_EQ(outcome.err, "");
  }
}

TEST_F(CliToolsEndToEndTest, HealthOfAnUnknownServiceNameIsExitOne) {
  const Outcome outcome = Tollgate({"health", "--service", "tollgate.sum.v1.SumService",
                                    "--addr", auth_address_});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.err, "tollgate: health: " + auth_address_ +
                             " does not know service 'tollgate.sum.v1.SumService' (NOT_FOUND)\n");
  EXPECT_EQ(outcome.out, "");
}

TEST_F(CliToolsEndToEndTest, HealthWithNothingListeningIsExitOne) {
  auto port = tollgate::testing::PickFreePort();
  ASSERT_TRUE(port.ok());
  const Outcome outcome = Tollgate({"health", "--addr", Address(*port), "--timeout", "5"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.err.rfind("tollgate: health: " + Address(*port) + ": UNAVAILABLE: ", 0), 0u)
      << outcome.err;
  EXPECT_EQ(outcome.out, "");
}

TEST_F(CliToolsEndToEndTest, TokenVerifyAcceptsALoginTokenWithTheServedJwks) {
  const nlohmann::json registered = Register();
  const std::string token = registered["access_token"];
  Outcome outcome = Tollgate({"token", "verify", "--jwks", JwksUrl(), token});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  const nlohmann::json claims = nlohmann::json::parse(outcome.out, nullptr, false);
  EXPECT_EQ(claims["sub"], registered["user"]["id"]);
  EXPECT_EQ(claims["email"], registered["user"]["email"]);
  EXPECT_EQ(claims["roles"], nlohmann::json::array({"user"}));

  outcome = Tollgate({"token", "inspect", token});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.out.rfind("NOT VERIFIED: decoded only; ", 0), 0u) << outcome.out;
}

TEST_F(CliToolsEndToEndTest, TokenVerifyRefusesEachKindOfBadToken) {
  const std::string token = Register()["access_token"];
  const size_t second_dot = token.rfind('.');
  const size_t first_dot = token.find('.');
  nlohmann::json claims = nlohmann::json::parse(
      Base64UrlDecode(token.substr(first_dot + 1, second_dot - first_dot - 1)).value());
  claims["roles"] = {"user", "admin"};
  const std::string tampered =
      token.substr(0, first_dot + 1) + Base64UrlEncode(claims.dump()) + token.substr(second_dot);

  // Minted here with a key that auth_service does not publish.
  tollgate::testing::CountingRandomSource random;
  const Jwk foreign_key = tollgate::testing::GenerateKey(JwsAlgorithm::kES256);
  const AccessTokenIssuer foreign(foreign_key, {}, random);
  const std::string foreign_token =
      foreign.Issue({"user-1", "ada@example.com", {"user"}}, claims["iat"].get<int64_t>())->token;

  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{tampered}, "bad_signature"},
      {{"--aud", "billing", token}, "wrong_audience"},
      {{"--now", std::to_string(claims["exp"].get<int64_t>() + 30), token}, "expired"},
      {{foreign_token}, "unknown_kid"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"token", "verify", "--jwks", JwksUrl()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const Outcome outcome = Tollgate(args);
    EXPECT_EQ(outcome.exit_code, 1) << c.error;
    EXPECT_EQ(outcome.err.rfind("tollgate: token verify: " + c.error + ": ", 0), 0u)
        << outcome.err;
    EXPECT_EQ(outcome.out, "");
  }
}

// Last: it stops the database the other tests use.
TEST_F(CliToolsEndToEndTest, HealthFollowsAuthServicesDatabase) {
  ASSERT_EQ(Tollgate({"health"}).exit_code, 0);
  ASSERT_TRUE(cluster_->Stop().ok());
  Outcome outcome = HealthUntil(1);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.err,
            "tollgate: health: " + auth_address_ + " answers NOT_SERVING for the server ('')\n");
  EXPECT_EQ(outcome.out, "");
  // The liveness probe's name: the process is fine, only its database is
  // gone, so a liveness probe must not restart it.
  const Outcome liveness = Tollgate({"health", "--addr", auth_address_, "--service", "liveness"});
  EXPECT_EQ(liveness.exit_code, 0) << liveness.err;
  EXPECT_EQ(liveness.out, "{\"status\":\"SERVING\"}\n");

  ASSERT_TRUE(cluster_->StartAgain().ok());
  outcome = HealthUntil(0);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.out, "{\"status\":\"SERVING\"}\n");
}

}  // namespace
}  // namespace tollgate::cli
