// Runs the Node.js example client's tests (clients/node/test/*.test.js,
// Node's built-in test runner) against the real binaries: a throwaway
// PostgreSQL, auth_service signing ES256 with 3-second access tokens,
// sum_service with no clock leeway (a token not renewed in time is
// refused), and a second sum_service that trusts another key (it refuses
// every token). `npm ci --prefer-offline` installs the locked packages
// first. Each Node test asserts its own exact values; this driver asserts
// that `node --test` passed and shows its report.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/token/jwk.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/test_keys.h"

namespace tollgate {
namespace {

using testing::ChildProcess;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kNode[] = TOLLGATE_NODE_BIN;
constexpr char kNpm[] = TOLLGATE_NPM_BIN;
constexpr char kClientDir[] = TOLLGATE_NODE_CLIENT_DIR;
constexpr int kAccessTtlSeconds = 3;
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kNpmTimeout = std::chrono::seconds(300);
constexpr auto kNodeTestTimeout = std::chrono::seconds(180);

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }
std::string MetricsUrl(int port) { return "http://127.0.0.1:" + std::to_string(port) + "/metrics"; }

// What the child printed and how it ended, once it has ended (or was killed
// at the deadline).
struct Finished {
  int exit_code = -1;
  std::string output;
};

Finished RunToEnd(ChildProcess& child, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (child.Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Finished finished;
  if (child.Running()) {
    ADD_FAILURE() << "still running after " << timeout.count() << " s; stopped";
    (void)child.Terminate(std::chrono::seconds(5));
  }
  finished.exit_code = child.ExitCode();
  finished.output = child.Output();
  return finished;
}

// npm needs HOME for its cache; the services get nothing of the test's
// environment.
std::vector<std::string> NodeEnvironment() {
  std::vector<std::string> env;
  for (const char* name : {"HOME", "PATH", "npm_config_cache", "NODE_EXTRA_CA_CERTS"}) {
    if (const char* value = std::getenv(name); value != nullptr) {
      env.push_back(std::string(name) + "=" + value);
    }
  }
  return env;
}

class NodeClientTest : public testing::PostgresSuite {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kNode))
        << "node is not installed (CMake found '" << kNode
        << "'): run scripts/install_deps.sh, then configure again";
    ASSERT_TRUE(std::filesystem::exists(kNpm))
        << "npm is not installed (CMake found '" << kNpm
        << "'): run scripts/install_deps.sh, then configure again";
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;

    std::string pattern =
        (std::filesystem::temp_directory_path() / "tollgate_node_client_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    const std::string key_file = dir_ + "/signing-key.pem";
    std::ofstream(key_file) << testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256);

    auth_http_port_ = FreePort();
    auth_ = StartService(kAuthServiceBinary,
                         {
                             "AUTH_LISTEN=127.0.0.1:0",
                             "AUTH_HTTP_LISTEN=" + Address(auth_http_port_),
                             "AUTH_DATABASE_URL=" + cluster_->url(),
                             "AUTH_SIGNING_KEYS=" + key_file,
                             "AUTH_ACCESS_TTL=" + std::to_string(kAccessTtlSeconds),
                             "AUTH_ARGON2_MEMORY_KIB=8192",
                             "AUTH_ARGON2_ITERATIONS=1",
                             "AUTH_HASH_QUEUE=64",
                         },
                         &auth_port_);
    ASSERT_NE(auth_, nullptr);

    sum_http_port_ = FreePort();
    sum_ = StartService(kSumServiceBinary,
                        {
                            "SUM_LISTEN=127.0.0.1:0",
                            "SUM_HTTP_LISTEN=" + Address(sum_http_port_),
                            "SUM_KEYS_SOURCE=grpc://" + Address(auth_port_),
                            "TOKEN_LEEWAY=0",
                        },
                        &sum_port_);
    ASSERT_NE(sum_, nullptr);

    foreign_sum_http_port_ = FreePort();
    foreign_sum_ = StartService(kSumServiceBinary,
                                {
                                    "SUM_LISTEN=127.0.0.1:0",
                                    "SUM_HTTP_LISTEN=" + Address(foreign_sum_http_port_),
                                    "JWT_SECRET_KEY=a secret that auth_service never signs with",
                                },
                                &foreign_sum_port_);
    ASSERT_NE(foreign_sum_, nullptr);
  }

  void TearDown() override {
    for (std::unique_ptr<ChildProcess>* service : {&foreign_sum_, &sum_, &auth_}) {
      if (*service == nullptr) continue;
      EXPECT_TRUE((*service)->Terminate().ok());
      EXPECT_EQ((*service)->ExitCode(), 0) << (*service)->Output();
      service->reset();
    }
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  static int FreePort() {
    absl::StatusOr<int> port = testing::PickFreePort();
    EXPECT_TRUE(port.ok()) << port.status();
    return port.value_or(0);
  }

  // Starts a service and waits for its gRPC port; nullptr (and a failure)
  // if it does not come up.
  static std::unique_ptr<ChildProcess> StartService(const std::string& binary,
                                                    const std::vector<std::string>& env,
                                                    int* port) {
    auto child = ChildProcess::Start(binary, {}, env);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return nullptr;
    absl::StatusOr<int> listening = (*child)->WaitForPort(kStartTimeout);
    EXPECT_TRUE(listening.ok()) << binary << " did not come up: " << listening.status();
    if (!listening.ok()) return nullptr;
    *port = *listening;
    return *std::move(child);
  }

  std::string dir_;
  std::unique_ptr<ChildProcess> auth_, sum_, foreign_sum_;
  int auth_port_ = 0, auth_http_port_ = 0;
  int sum_port_ = 0, sum_http_port_ = 0;
  int foreign_sum_port_ = 0, foreign_sum_http_port_ = 0;
};

TEST_F(NodeClientTest, NodeTestsPassAgainstTheRealServices) {
  // The locked packages, from npm's cache when they are there; no install
  // scripts (none of them needs one).
  auto npm = ChildProcess::Start(kNpm,
                                 {"ci", "--prefix", kClientDir, "--prefer-offline",
                                  "--ignore-scripts", "--no-audit", "--no-fund"},
                                 NodeEnvironment());
  ASSERT_TRUE(npm.ok()) << npm.status();
  const Finished installed = RunToEnd(**npm, kNpmTimeout);
  ASSERT_EQ(installed.exit_code, 0) << "npm ci failed:\n" << installed.output;

  std::vector<std::string> env = NodeEnvironment();
  env.insert(env.end(), {
                            "TOLLGATE_AUTH_ADDR=" + Address(auth_port_),
                            "TOLLGATE_SUM_ADDR=" + Address(sum_port_),
                            "TOLLGATE_AUTH_METRICS=" + MetricsUrl(auth_http_port_),
                            "TOLLGATE_SUM_METRICS=" + MetricsUrl(sum_http_port_),
                            "TOLLGATE_FOREIGN_SUM_ADDR=" + Address(foreign_sum_port_),
                            "TOLLGATE_FOREIGN_SUM_METRICS=" + MetricsUrl(foreign_sum_http_port_),
                            "TOLLGATE_ACCESS_TTL=" + std::to_string(kAccessTtlSeconds),
                        });
  const std::string tests = std::string(kClientDir) + "/test/";
  auto node = ChildProcess::Start(kNode,
                                  {"--test", tests + "token_claims.test.js",
                                   tests + "session.test.js", tests + "live_services.test.js"},
                                  env);
  ASSERT_TRUE(node.ok()) << node.status();
  const Finished run = RunToEnd(**node, kNodeTestTimeout);
  // The TAP report, so that a failure shows which Node test failed and why.
  std::cout << run.output;
  EXPECT_EQ(run.exit_code, 0) << "node --test failed; its report is above";
  // Every file ran and none was skipped.
  EXPECT_NE(run.output.find("# fail 0"), std::string::npos);
  EXPECT_NE(run.output.find("# skipped 0"), std::string::npos);
  EXPECT_NE(run.output.find("# pass 17"), std::string::npos) << "expected 17 Node tests";
}

}  // namespace
}  // namespace tollgate
