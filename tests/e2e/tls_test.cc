// TLS on the real binaries: auth_service and sum_service serving TLS and
// mTLS with certificates this test makes with OpenSSL, sum_service fetching
// its keys over grpcs://, the `tollgate` CLI with --tls-ca, a certificate
// replaced on disk while sum_service runs, and start-up refused for bad TLS
// files. Each child's stderr is merged into its stdout where the test reads
// what an operator sees.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/tls/tls_credentials.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/child_process.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ChildProcess;
using testing::IssuedCertificate;
using testing::TestCertificateAuthority;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kCliBinary[] = TOLLGATE_CLI_BIN;
constexpr char kPassword[] = "correct horse battery staple";
constexpr char kSecret[] = "tls-test-shared-secret-0123456789abcdef";
constexpr auto kStartTimeout = seconds(60);

std::string Target(int port) { return "127.0.0.1:" + std::to_string(port); }

// `binary args...` with stderr merged into stdout.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartMerged(const std::string& binary,
                                                          const std::vector<std::string>& args,
                                                          const std::vector<std::string>& env) {
  std::vector<std::string> sh_args = {"-c", "exec \"$0\" \"$@\" 2>&1", binary};
  sh_args.insert(sh_args.end(), args.begin(), args.end());
  return ChildProcess::Start("/bin/sh", sh_args, env);
}

// Waits up to `timeout` for the child to exit by itself; its exit code, or
// -1 if it still runs.
int WaitForExit(ChildProcess& child, seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (child.Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  return child.ExitCode();
}

// A fresh channel (its own connection, not shared with earlier channels).
std::shared_ptr<grpc::Channel> NewChannel(int port,
                                          std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(Target(port), std::move(credentials), arguments);
}

// Health/Check ("") on a new connection: the status, the serving status in
// `*serving`, the serial of the server's certificate in `*serial`.
grpc::Status CheckHealth(int port, std::shared_ptr<grpc::ChannelCredentials> credentials,
                         HealthCheckResponse::ServingStatus* serving = nullptr,
                         std::string* serial = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(5));
  HealthCheckResponse response;
  const grpc::Status status = Health::NewStub(NewChannel(port, std::move(credentials)))
                                  ->Check(&context, HealthCheckRequest(), &response);
  if (serving != nullptr) *serving = response.status();
  if (status.ok() && serial != nullptr) {
    const auto pems = context.auth_context()->FindPropertyValues("x509_pem_cert");
    *serial = pems.empty() ? "" : testing::SerialOf(std::string(pems[0].data(), pems[0].size()));
  }
  return status;
}

std::string Describe(const grpc::Status& status) {
  return std::to_string(status.error_code()) + " " + status.error_message();
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, in
// files under a fresh folder; and a second CA that signed none of them.
class TlsFiles {
 public:
  TlsFiles() {
    char pattern[] = "/tmp/tollgate-tls-e2e-XXXXXX";
    dir_ = mkdtemp(pattern) == nullptr ? "" : pattern;
    const IssuedCertificate server = ca_.IssueServer();
    server_serial = server.serial_hex;
    server_cert = Write("server.pem", server.certificate_pem);
    server_key = Write("server-key.pem", server.private_key_pem);
    const IssuedCertificate client = ca_.IssueClient("sum_service");
    client_cert = Write("client.pem", client.certificate_pem);
    client_key = Write("client-key.pem", client.private_key_pem);
    ca = Write("ca.pem", ca_.certificate_pem());
    other_ca = Write("other-ca.pem", other_ca_.certificate_pem());
  }
  ~TlsFiles() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }

  // Channel credentials trusting `ca_file`, with the client certificate
  // when `with_client_certificate`.
  std::shared_ptr<grpc::ChannelCredentials> Trusting(const std::string& ca_file,
                                                     bool with_client_certificate = false) const {
    tls::ClientTlsFiles files{{"CA", ca_file}, {"CERT", ""}, {"KEY", ""}};
    if (with_client_certificate) {
      files.certificate.path = client_cert;
      files.private_key.path = client_key;
    }
    auto credentials = tls::ChannelCredentialsFrom(files);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return credentials.ok() ? *credentials : grpc::InsecureChannelCredentials();
  }

  TestCertificateAuthority& authority() { return ca_; }
  const std::string& dir() const { return dir_; }

  std::string server_serial, server_cert, server_key, client_cert, client_key, ca, other_ca;

 private:
  std::string dir_;
  TestCertificateAuthority ca_{"tollgate e2e CA"};
  TestCertificateAuthority other_ca_{"an unrelated CA"};
};

class TlsEndToEndTest : public testing::PostgresSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    ASSERT_FALSE(files_.dir().empty());
    static int database_number = 0;
    auto url = cluster_->CreateDatabase("tls_" + std::to_string(getpid()) + "_" +
                                        std::to_string(++database_number));
    ASSERT_TRUE(url.ok()) << url.status();
    database_url_ = *url;
    signing_key_ = files_.Write("signing-key.pem",
                                testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256));
  }

  void TearDown() override {
    for (auto* process : {&sum_, &auth_}) {
      if (*process) {
        EXPECT_TRUE((*process)->Terminate().ok());
        EXPECT_EQ((*process)->ExitCode(), 0) << "SIGTERM must drain and exit 0";
        process->reset();
      }
    }
  }

  // auth_service on 127.0.0.1:0 with TLS, plus `extra_env`; its port.
  int StartAuth(std::vector<std::string> extra_env = {}) {
    std::vector<std::string> env = {
        "AUTH_LISTEN=127.0.0.1:0",          "AUTH_DATABASE_URL=" + database_url_,
        "AUTH_SIGNING_KEYS=" + signing_key_, "AUTH_ARGON2_MEMORY_KIB=8192",
        "AUTH_ARGON2_ITERATIONS=1",         "AUTH_SESSION_PURGE_INTERVAL=0",
        "AUTH_TLS_CERT=" + files_.server_cert, "AUTH_TLS_KEY=" + files_.server_key};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    auto process = ChildProcess::Start(kAuthServiceBinary, {}, env);
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return 0;
    auth_ = *std::move(process);
    auto port = auth_->WaitForPort(kStartTimeout);
    EXPECT_TRUE(port.ok()) << port.status();
    return port.ok() ? *port : 0;
  }

  // sum_service on 127.0.0.1:0 with exactly `env` plus the listen address.
  int StartSum(std::vector<std::string> env) {
    env.push_back("SUM_LISTEN=127.0.0.1:0");
    auto process = ChildProcess::Start(kSumServiceBinary, {}, env);
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return 0;
    sum_ = *std::move(process);
    auto port = sum_->WaitForPort(kStartTimeout);
    EXPECT_TRUE(port.ok()) << port.status();
    return port.ok() ? *port : 0;
  }

  // Registers an account over TLS; its access token.
  std::string RegisterOverTls(int auth_port, const std::string& email,
                              bool with_client_certificate = false) {
    auto stub = auth::v1::AuthService::NewStub(
        NewChannel(auth_port, files_.Trusting(files_.ca, with_client_certificate)));
    auth::v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    request.set_first_name("Ada");
    request.set_last_name("Lovelace");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    auth::v1::AuthResponse response;
    const grpc::Status status = stub->Register(&context, request, &response);
    EXPECT_TRUE(status.ok()) << Describe(status);
    return response.access_token();
  }

  grpc::Status Sum(int sum_port, std::shared_ptr<grpc::ChannelCredentials> credentials,
                   const std::string& token, int64_t* result) {
    auto stub = sum::v1::SumService::NewStub(NewChannel(sum_port, std::move(credentials)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    context.AddMetadata("authorization", "Bearer " + token);
    sum::v1::SumRequest request;
    request.set_a(40);
    request.set_b(2);
    sum::v1::SumResponse response;
    const grpc::Status status = stub->Sum(&context, request, &response);
    *result = response.result();
    return status;
  }

  // Polls sum_service's health (over TLS trusting our CA) until it is
  // `wanted`, up to `timeout`.
  bool WaitForSumHealth(int port, HealthCheckResponse::ServingStatus wanted, seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
      if (CheckHealth(port, files_.Trusting(files_.ca), &serving).ok() && serving == wanted) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  TlsFiles files_;
  std::string database_url_;
  std::string signing_key_;
  std::unique_ptr<ChildProcess> auth_;
  std::unique_ptr<ChildProcess> sum_;
};

TEST_F(TlsEndToEndTest, AuthServiceServesTlsAndRefusesPlaintextAndAWrongCa) {
  const int port = StartAuth();
  ASSERT_NE(port, 0);
  EXPECT_FALSE(RegisterOverTls(port, "ada@example.com").empty());

  HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
  std::string serial;
  const grpc::Status status = CheckHealth(port, files_.Trusting(files_.ca), &serving, &serial);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(serving, HealthCheckResponse::SERVING);
  EXPECT_EQ(serial, files_.server_serial);

  EXPECT_EQ(CheckHealth(port, grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CheckHealth(port, files_.Trusting(files_.other_ca)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsEndToEndTest, AuthServiceWithAClientCaServesOnlyClientsWithACertificate) {
  const int port = StartAuth({"AUTH_TLS_CLIENT_CA=" + files_.ca});
  ASSERT_NE(port, 0);
  EXPECT_EQ(CheckHealth(port, files_.Trusting(files_.ca)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  const grpc::Status status = CheckHealth(port, files_.Trusting(files_.ca, true));
  EXPECT_TRUE(status.ok()) << Describe(status);
}

TEST_F(TlsEndToEndTest, SumServiceFetchesKeysOverMutualTlsAndServesTls) {
  const int auth_port = StartAuth({"AUTH_TLS_CLIENT_CA=" + files_.ca});
  ASSERT_NE(auth_port, 0);
  const int sum_port = StartSum({"SUM_KEYS_SOURCE=grpcs://" + Target(auth_port),
                                 "SUM_KEYS_CA=" + files_.ca,
                                 "SUM_KEYS_CLIENT_CERT=" + files_.client_cert,
                                 "SUM_KEYS_CLIENT_KEY=" + files_.client_key,
                                 "SUM_TLS_CERT=" + files_.server_cert,
                                 "SUM_TLS_KEY=" + files_.server_key});
  ASSERT_NE(sum_port, 0);
  // SERVING once the first keys came over grpcs://.
  ASSERT_TRUE(WaitForSumHealth(sum_port, HealthCheckResponse::SERVING, seconds(10)));

  const std::string token = RegisterOverTls(auth_port, "grace@example.com", true);
  ASSERT_FALSE(token.empty());
  int64_t result = 0;
  const grpc::Status status = Sum(sum_port, files_.Trusting(files_.ca), token, &result);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(result, 42);
  EXPECT_EQ(Sum(sum_port, grpc::InsecureChannelCredentials(), token, &result).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsEndToEndTest, SumServiceWithAWrongKeysCaGetsNoKeys) {
  const int auth_port = StartAuth();
  ASSERT_NE(auth_port, 0);
  const int sum_port = StartSum({"SUM_KEYS_SOURCE=grpcs://" + Target(auth_port),
                                 "SUM_KEYS_CA=" + files_.other_ca,
                                 "SUM_TLS_CERT=" + files_.server_cert,
                                 "SUM_TLS_KEY=" + files_.server_key});
  ASSERT_NE(sum_port, 0);
  // The right CA gets keys within a second (the test above); with the wrong
  // one, three seconds of retries (one a second) bring none.
  EXPECT_FALSE(WaitForSumHealth(sum_port, HealthCheckResponse::SERVING, seconds(3)));
  HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
  ASSERT_TRUE(CheckHealth(sum_port, files_.Trusting(files_.ca), &serving).ok());
  EXPECT_EQ(serving, HealthCheckResponse::NOT_SERVING);

  const std::string token = RegisterOverTls(auth_port, "linus@example.com");
  ASSERT_FALSE(token.empty());
  int64_t result = 0;
  const grpc::Status status = Sum(sum_port, files_.Trusting(files_.ca), token, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(status);
}

TEST_F(TlsEndToEndTest, CliWithTlsCaWorksAgainstTlsServices) {
  const int auth_port = StartAuth();
  ASSERT_NE(auth_port, 0);
  const int sum_port = StartSum({"SUM_KEYS_SOURCE=grpcs://" + Target(auth_port),
                                 "SUM_KEYS_CA=" + files_.ca, "SUM_TLS_CERT=" + files_.server_cert,
                                 "SUM_TLS_KEY=" + files_.server_key});
  ASSERT_NE(sum_port, 0);
  ASSERT_TRUE(WaitForSumHealth(sum_port, HealthCheckResponse::SERVING, seconds(10)));

  const std::vector<std::string> env = {
      "TOLLGATE_AUTH_ADDR=" + Target(auth_port), "TOLLGATE_SUM_ADDR=" + Target(sum_port),
      "TOLLGATE_TOKEN_FILE=" + files_.dir() + "/tokens.json",
      std::string("TOLLGATE_PASSWORD=") + kPassword};
  // Each command's output (stderr merged) and exit status.
  auto run = [&](const std::vector<std::string>& args, std::string* output) {
    auto cli = StartMerged(kCliBinary, args, env);
    EXPECT_TRUE(cli.ok()) << cli.status();
    if (!cli.ok()) return -1;
    const int exit_code = WaitForExit(**cli, seconds(30));
    *output = (*cli)->Output();
    return exit_code;
  };
  std::string output;
  EXPECT_EQ(run({"--tls-ca", files_.ca, "register", "cli@example.com", "--first-name", "Cli",
                 "--last-name", "User"},
                &output),
            0)
      << output;
  EXPECT_EQ(run({"sum", "--tls-ca", files_.ca, "40", "2"}, &output), 0) << output;
  EXPECT_EQ(output, "{\"result\":\"42\"}\n");

  // Plaintext against a TLS port, and a CA that signed nothing here.
  EXPECT_EQ(run({"sum", "40", "2"}, &output), 1) << output;
  EXPECT_NE(output.find("UNAVAILABLE"), std::string::npos) << output;
  EXPECT_EQ(run({"--tls-ca", files_.other_ca, "sum", "40", "2"}, &output), 1) << output;
  EXPECT_NE(output.find("UNAVAILABLE"), std::string::npos) << output;
}

TEST_F(TlsEndToEndTest, SumServicePresentsAReplacedCertificateWithoutARestart) {
  const int port = StartSum({std::string("JWT_SECRET_KEY=") + kSecret,
                             "SUM_TLS_CERT=" + files_.server_cert,
                             "SUM_TLS_KEY=" + files_.server_key});
  ASSERT_NE(port, 0);
  std::string serial;
  ASSERT_TRUE(CheckHealth(port, files_.Trusting(files_.ca), nullptr, &serial).ok());
  ASSERT_EQ(serial, files_.server_serial);

  const IssuedCertificate renewed = files_.authority().IssueServer();
  testing::ReplaceFile(files_.server_key, renewed.private_key_pem);
  testing::ReplaceFile(files_.server_cert, renewed.certificate_pem);
  const auto deadline = std::chrono::steady_clock::now() + 3 * tls::kReloadInterval;
  while (serial != renewed.serial_hex && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(200));
    serial.clear();
    CheckHealth(port, files_.Trusting(files_.ca), nullptr, &serial);
  }
  EXPECT_EQ(serial, renewed.serial_hex);
  EXPECT_TRUE(sum_->Running()) << "the same process, not a restart";
}

// --- Start-up with bad TLS settings -------------------------------------------

class TlsStartUpTest : public ::testing::Test {
 protected:
  // Runs `binary` with `env`; expects exit `exit_code` and `line`: for a
  // bad configuration (2), exactly `line` as the whole output; for a failed
  // start (1), written as "<binary>: cannot start: <cause>", the last log
  // line being the JSON error "cannot start" with that cause as `reason`.
  void ExpectRefused(const std::string& binary, const std::vector<std::string>& env,
                     int exit_code, const std::string& line) {
    auto child = StartMerged(binary, {}, env);
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_EQ(WaitForExit(**child, seconds(20)), exit_code) << (*child)->Output();
    if (exit_code != 1) {
      EXPECT_EQ((*child)->Output(), line + "\n");
      return;
    }
    const std::string marker = ": cannot start: ";
    const std::string cause = line.substr(line.find(marker) + marker.size());
    std::string output = (*child)->Output();
    ASSERT_FALSE(output.empty());
    output.pop_back();  // the last newline
    const nlohmann::json last =
        nlohmann::json::parse(output.substr(output.rfind('\n') + 1), nullptr, false);
    ASSERT_TRUE(last.is_object()) << output;
    EXPECT_EQ(last.value("level", ""), "error");
    EXPECT_EQ(last.value("msg", ""), "cannot start");
    EXPECT_EQ(last.value("reason", ""), cause);
  }

  std::vector<std::string> SumEnv(std::vector<std::string> tls_env) {
    tls_env.push_back("SUM_LISTEN=127.0.0.1:0");
    tls_env.push_back(std::string("JWT_SECRET_KEY=") + kSecret);
    return tls_env;
  }

  TlsFiles files_;
};

TEST_F(TlsStartUpTest, ACertificateWithoutItsKeyIsAConfigurationError) {
  ExpectRefused(kSumServiceBinary, SumEnv({"SUM_TLS_CERT=" + files_.server_cert}), 2,
                "sum_service: invalid configuration: SUM_TLS_CERT (--tls-cert) and SUM_TLS_KEY "
                "(--tls-key): set both or neither");
}

TEST_F(TlsStartUpTest, AnUnreadableFileEndsTheStartNamingTheSetting) {
  const std::string missing = files_.dir() + "/missing.pem";
  ExpectRefused(kSumServiceBinary,
                SumEnv({"SUM_TLS_CERT=" + missing, "SUM_TLS_KEY=" + files_.server_key}), 1,
                "sum_service: cannot start: SUM_TLS_CERT (--tls-cert): cannot read " + missing +
                    ": No such file or directory");
}

TEST_F(TlsStartUpTest, AKeyThatDoesNotMatchTheCertificateEndsTheStart) {
  const std::string other_key =
      files_.Write("other-key.pem", files_.authority().IssueServer().private_key_pem);
  ExpectRefused(kSumServiceBinary,
                SumEnv({"SUM_TLS_CERT=" + files_.server_cert, "SUM_TLS_KEY=" + other_key}), 1,
                "sum_service: cannot start: SUM_TLS_KEY (--tls-key): " + other_key +
                    " does not match the certificate in SUM_TLS_CERT (--tls-cert)");
  // auth_service checks its TLS files before it waits for the database.
  ExpectRefused(kAuthServiceBinary,
                {"AUTH_LISTEN=127.0.0.1:0", "AUTH_DATABASE_URL=postgresql://127.0.0.1:1/none",
                 std::string("JWT_SECRET_KEY=") + kSecret, "AUTH_TLS_CERT=" + files_.server_cert,
                 "AUTH_TLS_KEY=" + other_key},
                1,
                "auth_service: cannot start: AUTH_TLS_KEY (--tls-key): " + other_key +
                    " does not match the certificate in AUTH_TLS_CERT (--tls-cert)");
}

TEST_F(TlsStartUpTest, AnUnreadableKeysCaEndsTheStart) {
  const std::string missing = files_.dir() + "/no-ca.pem";
  ExpectRefused(kSumServiceBinary,
                {"SUM_LISTEN=127.0.0.1:0", "SUM_KEYS_SOURCE=grpcs://127.0.0.1:1",
                 "SUM_KEYS_CA=" + missing},
                1,
                "sum_service: cannot start: SUM_KEYS_CA (--keys-ca): cannot read " + missing +
                    ": No such file or directory");
}

}  // namespace
}  // namespace tollgate
