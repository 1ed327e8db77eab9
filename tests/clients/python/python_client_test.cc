// Runs the Python client's unittest modules (tests/clients/python/test_*.py,
// by /usr/bin/python3 with Debian's python3-grpcio) against the real
// services, which this driver starts the way the other end-to-end suites
// do: a throwaway PostgreSQL cluster, auth_service (ES256, a 3-second
// access lifetime, HTTP port for /metrics), sum_service fetching its keys
// from it over gRPC, and a second auth_service that requires mTLS. Both
// services run with TOKEN_LEEWAY=0, so an expired token is refused at once.
//
// Each module is one test here, sharing the stack; the modules read the
// addresses from TOLLGATE_TEST_* variables (tests/clients/python/stack.py).
// Nothing is skipped: a missing Python module makes its test fail.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/token/jwk.h"
#include "nlohmann/json.hpp"
#include "tests/support/child_process.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_keys.h"

namespace tollgate {
namespace {

using std::chrono::seconds;
using testing::ChildProcess;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kPython[] = "/usr/bin/python3";
// clients/python, the generated stubs, and this folder.
constexpr char kPythonPath[] = TOLLGATE_PYTHON_CLIENT_PATH;
constexpr char kAccessTtlSeconds[] = "3";
constexpr auto kStartTimeout = seconds(60);
// A module's whole run; the slowest waits out a few token lifetimes.
constexpr auto kModuleTimeout = seconds(240);

// `binary` with stderr merged into stdout (through /bin/sh, which execs it:
// the child's PID is the binary's).
std::unique_ptr<ChildProcess> StartMerged(const std::string& binary,
                                          const std::vector<std::string>& args,
                                          const std::vector<std::string>& env) {
  std::vector<std::string> sh_args = {"-c", "exec \"$0\" \"$@\" 2>&1", binary};
  sh_args.insert(sh_args.end(), args.begin(), args.end());
  auto child = ChildProcess::Start("/bin/sh", sh_args, env);
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? *std::move(child) : nullptr;
}

// The port of the service's `"msg":"listening"` line for `protocol`
// ("grpc" or "http"); 0 if none appears within the start timeout.
int ListeningPort(ChildProcess& service, const std::string& protocol) {
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline && service.Running()) {
    std::istringstream lines(service.Output());
    for (std::string line; std::getline(lines, line);) {
      const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
      if (parsed.is_object() && parsed.value("msg", "") == "listening" &&
          parsed.value("protocol", "") == protocol) {
        return parsed.value("port", 0);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "no " << protocol << " listening line:\n" << service.Output();
  return 0;
}

std::string Local(int port) { return "127.0.0.1:" + std::to_string(port); }

class PythonClientTest : public testing::PostgresSuite {
 protected:
  static void SetUpTestSuite() {
    PostgresSuite::SetUpTestSuite();
    if (cluster_ == nullptr) return;
    char pattern[] = "/tmp/tollgate-python-client-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return;
    dir_ = pattern;
    const std::string signing_key =
        Write("signing-key.pem", testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256));
    testing::TestCertificateAuthority authority("python client test CA");
    testing::TestCertificateAuthority other_authority("an unrelated CA");
    const testing::IssuedCertificate server = authority.IssueServer();
    const testing::IssuedCertificate client = authority.IssueClient("python client");
    env_ = {
        "TOLLGATE_TEST_ACCESS_TTL=" + std::string(kAccessTtlSeconds),
        "TOLLGATE_TEST_TLS_CA=" + Write("ca.pem", authority.certificate_pem()),
        "TOLLGATE_TEST_TLS_OTHER_CA=" + Write("other-ca.pem", other_authority.certificate_pem()),
        "TOLLGATE_TEST_TLS_CLIENT_CERT=" + Write("client.pem", client.certificate_pem),
        "TOLLGATE_TEST_TLS_CLIENT_KEY=" + Write("client-key.pem", client.private_key_pem),
    };

    auth_ = StartAuth(cluster_->url(), signing_key, {});
    if (auth_ == nullptr) return;
    const int auth_port = ListeningPort(*auth_, "grpc");
    const int auth_http_port = ListeningPort(*auth_, "http");
    sum_ = StartMerged(kSumServiceBinary, {},
                       {"SUM_LISTEN=127.0.0.1:0", "SUM_HTTP_LISTEN=127.0.0.1:0",
                        "SUM_KEYS_SOURCE=grpc://" + Local(auth_port), "TOKEN_LEEWAY=0"});
    if (sum_ == nullptr) return;
    const int sum_port = ListeningPort(*sum_, "grpc");
    const int sum_http_port = ListeningPort(*sum_, "http");

    auto tls_database = cluster_->CreateDatabase("python_client_tls");
    EXPECT_TRUE(tls_database.ok()) << tls_database.status();
    if (!tls_database.ok()) return;
    tls_auth_ = StartAuth(*tls_database, signing_key,
                          {"AUTH_TLS_CERT=" + Write("server.pem", server.certificate_pem),
                           "AUTH_TLS_KEY=" + Write("server-key.pem", server.private_key_pem),
                           "AUTH_TLS_CLIENT_CA=" + Write("client-ca.pem", authority.certificate_pem())});
    if (tls_auth_ == nullptr) return;
    const int tls_auth_port = ListeningPort(*tls_auth_, "grpc");

    env_.insert(env_.end(),
                {"TOLLGATE_TEST_AUTH_TARGET=" + Local(auth_port),
                 "TOLLGATE_TEST_AUTH_METRICS_URL=http://" + Local(auth_http_port) + "/metrics",
                 "TOLLGATE_TEST_SUM_TARGET=" + Local(sum_port),
                 "TOLLGATE_TEST_SUM_METRICS_URL=http://" + Local(sum_http_port) + "/metrics",
                 "TOLLGATE_TEST_TLS_AUTH_TARGET=" + Local(tls_auth_port)});
    ready_ = auth_port > 0 && auth_http_port > 0 && sum_port > 0 && sum_http_port > 0 &&
             tls_auth_port > 0;
  }

  static void TearDownTestSuite() {
    // Stop by PID (ChildProcess), sum first: it holds a channel to auth.
    for (auto* service : {&sum_, &tls_auth_, &auth_}) {
      if (*service != nullptr) {
        EXPECT_TRUE((*service)->Terminate().ok());
        service->reset();
      }
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    PostgresSuite::TearDownTestSuite();
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    ASSERT_TRUE(ready_) << "the services did not start";
  }

  static std::unique_ptr<ChildProcess> StartAuth(const std::string& database_url,
                                                 const std::string& signing_key,
                                                 const std::vector<std::string>& extra_env) {
    std::vector<std::string> env = {
        "AUTH_LISTEN=127.0.0.1:0",         "AUTH_HTTP_LISTEN=127.0.0.1:0",
        "AUTH_DATABASE_URL=" + database_url, "AUTH_SIGNING_KEYS=" + signing_key,
        "AUTH_ACCESS_TTL=" + std::string(kAccessTtlSeconds), "TOKEN_LEEWAY=0",
        "AUTH_ARGON2_MEMORY_KIB=8192",     "AUTH_ARGON2_ITERATIONS=1",
        "AUTH_SESSION_PURGE_INTERVAL=0"};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return StartMerged(kAuthServiceBinary, {}, env);
  }

  static std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }

  // `python3 -m unittest -v <module>`; its exit code, and everything it
  // printed in `*output`.
  static int RunModule(const std::string& module, std::string* output) {
    std::vector<std::string> env = env_;
    env.push_back(std::string("PYTHONPATH=") + kPythonPath);
    env.push_back("PYTHONDONTWRITEBYTECODE=1");
    env.push_back("PYTHONUNBUFFERED=1");
    std::unique_ptr<ChildProcess> python = StartMerged(kPython, {"-m", "unittest", "-v", module}, env);
    if (python == nullptr) return -1;
    const auto deadline = std::chrono::steady_clock::now() + kModuleTimeout;
    while (python->Running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (python->Running()) {
      ADD_FAILURE() << module << " still ran after " << kModuleTimeout.count() << " s";
      (void)python->Terminate(seconds(5));
    }
    *output = python->Output();
    return python->ExitCode();
  }

  void ExpectModulePasses(const std::string& module) {
    std::string output;
    const int exit_code = RunModule(module, &output);
    std::cout << output;
    EXPECT_EQ(exit_code, 0) << module << " failed (its output is above)";
  }

  static inline std::string dir_;
  static inline std::vector<std::string> env_;
  static inline std::unique_ptr<ChildProcess> auth_, sum_, tls_auth_;
  static inline bool ready_ = false;
};

// Pure logic, no server: token decoding, the renewal window, the retry
// schedule, single flight under a fake clock.
TEST_F(PythonClientTest, UnitTests) { ExpectModulePasses("test_client_logic"); }

// Register, login, Sum, logout; resume from a saved refresh token; the
// context manager; typed errors for each code the services answer.
TEST_F(PythonClientTest, SessionFlowAndTypedErrors) { ExpectModulePasses("test_session_flow"); }

// Proactive renewal across expiries with threads (Refresh counted at the
// server), reactive renewal, a session revoked elsewhere.
TEST_F(PythonClientTest, Renewal) { ExpectModulePasses("test_renewal"); }

// UNAVAILABLE retried with backoff against a port where nothing listens, a
// server that comes up while the client backs off, a deadline, a token
// refused again after its renewal (a grpcio stand-in for AuthService).
TEST_F(PythonClientTest, Faults) { ExpectModulePasses("test_faults"); }

// TLS with the test CA and a client certificate (mTLS); refused without.
TEST_F(PythonClientTest, Tls) { ExpectModulePasses("test_tls"); }

}  // namespace
}  // namespace tollgate
