// Nothing secret reaches a log (SPEC section 7, "never a token, password,
// hash or code"). The real binaries, with their real logs: auth_service on a
// throwaway PostgreSQL whose URL carries a password, mailing through a real
// SMTP server with credentials, signing with an ES256 PEM key; sum_service
// with keys from AuthService. A whole session runs through them (register,
// failed logins, login, refresh, a reused refresh token, Sum, denials with
// a forged and a garbage token, password change, reset by mailed code,
// email verification by mailed code, logout), then both stop and every line
// they wrote (stdout and stderr) is searched for every secret the test used.
// The access log must also hold one line per call with the right codes.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "nlohmann/json.hpp"
#include "tests/support/child_process.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate {
namespace {

using std::chrono::seconds;
using testing::ChildProcess;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kEmail[] = "grace.hopper@example.com";
constexpr char kPassword[] = "first-Password-4f9c2e";
constexpr char kWrongPassword[] = "wrong-Password-7d1a0b";
constexpr char kChangedPassword[] = "second-Password-a83e61";
constexpr char kResetPassword[] = "third-Password-5b27cd";
constexpr char kDatabasePassword[] = "db-Secret-9e4f1a77";
constexpr char kSmtpUser[] = "mailer";
constexpr char kSmtpPassword[] = "smtp-Secret-c0ffee42";
constexpr char kAdminPassword[] = "admin-Password-31b7f0";

std::string Target(int port) { return "127.0.0.1:" + std::to_string(port); }

class LogSecretsTest : public testing::PostgresSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    char pattern[] = "/tmp/tollgate-log-secrets-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    key_pem_ = testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256);
    std::ofstream(dir_ + "/signing.pem") << key_pem_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The database URL with a password: a role made for this test.
  std::string DatabaseUrlWithPassword() {
    auto url = cluster_->CreateDatabase("log_secrets_" + std::to_string(getpid()));
    EXPECT_TRUE(url.ok()) << url.status();
    pqxx::connection connection(*url);
    pqxx::nontransaction statement(connection);
    statement.exec0("CREATE ROLE tollgate_logs LOGIN SUPERUSER PASSWORD " +
                    statement.quote(kDatabasePassword));
    // postgresql://user@host:port/db -> postgresql://tollgate_logs:PW@host:port/db
    const std::string prefix = "postgresql://";
    std::string rest = url->substr(url->find('@') + 1);
    return prefix + "tollgate_logs:" + kDatabasePassword + "@" + rest;
  }

  std::string dir_;
  std::string key_pem_;
};

// Every lines of `output` that is an access-log line ("msg":"call").
std::vector<nlohmann::json> CallLines(const std::string& output) {
  std::vector<nlohmann::json> calls;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << "not a JSON log line: " << line;
    if (parsed.is_object() && parsed.value("msg", "") == "call") calls.push_back(parsed);
  }
  return calls;
}

std::string MailedCode(testing::SmtpSink& sink, size_t count, std::string_view prefix) {
  auto messages = sink.WaitForMessages(count, std::chrono::seconds(20));
  EXPECT_GE(messages.size(), count);
  if (messages.size() < count) return "";
  return testing::CodeOnItsOwnLine(messages[count - 1].raw, prefix);
}

TEST_F(LogSecretsTest, AFullSessionLeavesNoSecretInAnyLog) {
  auto sink = testing::SmtpSink::Start({0, 0, 0, kSmtpUser, kSmtpPassword, 300});
  ASSERT_TRUE(sink.ok()) << sink.status();
  const std::string database_url = DatabaseUrlWithPassword();

  // Both services log at debug level: the most they ever write.
  auto auth = ChildProcess::Start(
      "/bin/sh", {"-c", "exec \"$0\" 2>&1", kAuthServiceBinary},
      {"AUTH_LISTEN=127.0.0.1:0", "AUTH_DATABASE_URL=" + database_url,
       "AUTH_SIGNING_KEYS=" + dir_ + "/signing.pem", "AUTH_ARGON2_MEMORY_KIB=8192",
       "AUTH_ARGON2_ITERATIONS=1", "AUTH_LOG_LEVEL=debug",
       "AUTH_SMTP_URL=" + (*sink)->url(), std::string("AUTH_SMTP_USER=") + kSmtpUser,
       std::string("AUTH_SMTP_PASSWORD=") + kSmtpPassword,
       "AUTH_BOOTSTRAP_ADMIN_EMAIL=root@example.com",
       std::string("AUTH_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword});
  ASSERT_TRUE(auth.ok()) << auth.status();
  auto auth_port = (*auth)->WaitForPort(seconds(60));
  ASSERT_TRUE(auth_port.ok()) << auth_port.status();
  auto sum = ChildProcess::Start(
      "/bin/sh", {"-c", "exec \"$0\" 2>&1", kSumServiceBinary},
      {"SUM_LISTEN=127.0.0.1:0", "SUM_KEYS_SOURCE=grpc://" + Target(*auth_port),
       "SUM_LOG_LEVEL=debug"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  auto sum_port = (*sum)->WaitForPort(seconds(60));
  ASSERT_TRUE(sum_port.ok()) << sum_port.status();

  auto auth_stub = auth::v1::AuthService::NewStub(
      grpc::CreateChannel(Target(*auth_port), grpc::InsecureChannelCredentials()));
  auto sum_stub = sum::v1::SumService::NewStub(
      grpc::CreateChannel(Target(*sum_port), grpc::InsecureChannelCredentials()));
  std::vector<std::string> secrets = {kPassword,     kWrongPassword,    kChangedPassword,
                                      kResetPassword, kDatabasePassword, kSmtpPassword,
                                      kAdminPassword};
  // Every line of the PEM key body (the header lines are not secret).
  std::istringstream pem(key_pem_);
  for (std::string line; std::getline(pem, line);) {
    if (line.rfind("-----", 0) != 0 && line.size() >= 16) secrets.push_back(line);
  }
  std::map<std::string, std::map<std::string, int>> expected_codes;  // method -> code -> n
  const auto call = [&](const char* method, const grpc::Status& status) {
    ++expected_codes["/tollgate.auth.v1.AuthService/" + std::string(method)]
                    [status.ok() ? "OK" : std::to_string(status.error_code())];
  };

  auth::v1::AuthResponse registered;
  {
    grpc::ClientContext context;
    auth::v1::RegisterRequest request;
    request.set_email(kEmail);
    request.set_password(kPassword);
    request.set_first_name("Grace");
    request.set_last_name("Hopper");
    const grpc::Status status = auth_stub->Register(&context, request, &registered);
    ASSERT_TRUE(status.ok()) << status.error_message();
    call("Register", status);
  }
  const auto login = [&](const std::string& password, auth::v1::AuthResponse* response) {
    grpc::ClientContext context;
    auth::v1::LoginRequest request;
    request.set_email(kEmail);
    request.set_password(password);
    const grpc::Status status = auth_stub->Login(&context, request, response);
    call("Login", status);
    return status;
  };
  auth::v1::AuthResponse ignored;
  EXPECT_EQ(login(kWrongPassword, &ignored).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auth::v1::AuthResponse logged_in;
  ASSERT_TRUE(login(kPassword, &logged_in).ok());

  const auto refresh = [&](const std::string& token, auth::v1::AuthResponse* response) {
    grpc::ClientContext context;
    auth::v1::RefreshRequest request;
    request.set_refresh_token(token);
    const grpc::Status status = auth_stub->Refresh(&context, request, response);
    call("Refresh", status);
    return status;
  };
  auth::v1::AuthResponse refreshed;
  ASSERT_TRUE(refresh(logged_in.refresh_token(), &refreshed).ok());

  const auto sum_call = [&](const std::string& authorization) {
    grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    sum::v1::SumRequest request;
    request.set_a(20);
    request.set_b(22);
    sum::v1::SumResponse response;
    return sum_stub->Sum(&context, request, &response);
  };
  // SumService fetches its keys in the background: wait for them.
  grpc::Status summed;
  for (int i = 0; i < 100; ++i) {
    summed = sum_call("Bearer " + refreshed.access_token());
    if (summed.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(summed.ok()) << summed.error_message();
  std::string forged = refreshed.access_token();
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(sum_call("Bearer " + forged).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(sum_call("Bearer garbage.not-a.token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(sum_call("").error_code(), grpc::StatusCode::UNAUTHENTICATED);

  auth::v1::AuthResponse changed;
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + refreshed.access_token());
    auth::v1::ChangePasswordRequest request;
    request.set_current_password(kPassword);
    request.set_new_password(kChangedPassword);
    const grpc::Status status = auth_stub->ChangePassword(&context, request, &changed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    call("ChangePassword", status);
  }
  // The refresh token spent above, shown again after the grace: reuse.
  EXPECT_FALSE(refresh(logged_in.refresh_token(), &ignored).ok());

  std::string reset_code;
  {
    grpc::ClientContext context;
    auth::v1::RequestPasswordResetRequest request;
    request.set_email(kEmail);
    auth::v1::RequestPasswordResetResponse response;
    const grpc::Status status = auth_stub->RequestPasswordReset(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    call("RequestPasswordReset", status);
    reset_code = MailedCode(**sink, 1, "tgp_");
    ASSERT_FALSE(reset_code.empty());
  }
  {
    grpc::ClientContext context;
    auth::v1::ResetPasswordRequest request;
    request.set_token(reset_code);
    request.set_new_password(kResetPassword);
    auth::v1::ResetPasswordResponse response;
    const grpc::Status status = auth_stub->ResetPassword(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    call("ResetPassword", status);
  }
  auth::v1::AuthResponse last;
  ASSERT_TRUE(login(kResetPassword, &last).ok());
  std::string verify_code;
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + last.access_token());
    auth::v1::RequestEmailVerificationRequest request;
    auth::v1::RequestEmailVerificationResponse response;
    const grpc::Status status = auth_stub->RequestEmailVerification(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    call("RequestEmailVerification", status);
    verify_code = MailedCode(**sink, 2, "tge_");
    ASSERT_FALSE(verify_code.empty());
  }
  {
    grpc::ClientContext context;
    auth::v1::VerifyEmailRequest request;
    request.set_token(verify_code);
    auth::v1::User user;
    const grpc::Status status = auth_stub->VerifyEmail(&context, request, &user);
    ASSERT_TRUE(status.ok()) << status.error_message();
    call("VerifyEmail", status);
  }
  {
    grpc::ClientContext context;
    auth::v1::LogoutRequest request;
    request.set_refresh_token(last.refresh_token());
    auth::v1::LogoutResponse response;
    const grpc::Status status = auth_stub->Logout(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    call("Logout", status);
  }

  for (const auth::v1::AuthResponse* pair : {&registered, &logged_in, &refreshed, &changed, &last}) {
    secrets.push_back(pair->access_token());
    secrets.push_back(pair->refresh_token());
  }
  secrets.push_back(forged);
  secrets.push_back(reset_code);
  secrets.push_back(verify_code);

  // Stop both (SIGTERM: drain, flush), then read everything they wrote.
  ASSERT_TRUE((*sum)->Terminate().ok());
  EXPECT_EQ((*sum)->ExitCode(), 0);
  ASSERT_TRUE((*auth)->Terminate().ok());
  EXPECT_EQ((*auth)->ExitCode(), 0);
  const std::string auth_log = (*auth)->Output();
  const std::string sum_log = (*sum)->Output();

  // The search reads what was logged: the database URL is there, masked.
  EXPECT_NE(auth_log.find("tollgate_logs:***@"), std::string::npos) << auth_log.substr(0, 4000);
  for (const std::string& secret : secrets) {
    ASSERT_FALSE(secret.empty());
    EXPECT_EQ(auth_log.find(secret), std::string::npos) << "auth_service logged a secret";
    EXPECT_EQ(sum_log.find(secret), std::string::npos) << "sum_service logged a secret";
  }
  // No secret may hide inside a token-shaped value either: no JWT at all.
  EXPECT_EQ(auth_log.find("eyJ"), std::string::npos);
  EXPECT_EQ(sum_log.find("eyJ"), std::string::npos);

  // One access-log line per call, with the code the client saw.
  std::map<std::string, std::map<std::string, int>> logged_codes;
  for (const nlohmann::json& line : CallLines(auth_log)) {
    const std::string method = line.value("method", "");
    if (method.rfind("/tollgate.auth.v1.AuthService/", 0) != 0) continue;
    if (method == "/tollgate.auth.v1.AuthService/GetJwks") continue;  // SumService's key fetches
    const std::string code = line.value("code", "");
    ++logged_codes[method][code == "OK" ? "OK" : code];
  }
  std::map<std::string, std::map<std::string, int>> expected_named;
  static const std::map<std::string, std::string> kNames = {
      {"16", "UNAUTHENTICATED"}, {"7", "PERMISSION_DENIED"}, {"3", "INVALID_ARGUMENT"},
      {"9", "FAILED_PRECONDITION"}, {"5", "NOT_FOUND"}};
  for (const auto& [method, codes] : expected_codes) {
    for (const auto& [code, count] : codes) {
      expected_named[method][code == "OK" ? "OK" : kNames.at(code)] += count;
    }
  }
  EXPECT_EQ(logged_codes, expected_named);
  std::map<std::string, int> sum_codes;
  for (const nlohmann::json& line : CallLines(sum_log)) {
    if (line.value("method", "") == "/tollgate.sum.v1.SumService/Sum") {
      ++sum_codes[line.value("code", "") + "/" + line.value("reason", "")];
    }
  }
  EXPECT_GE(sum_codes["OK/"], 1);
  EXPECT_EQ(sum_codes["UNAUTHENTICATED/bad_signature"], 1);
  EXPECT_EQ(sum_codes["UNAUTHENTICATED/malformed"], 1);
  EXPECT_EQ(sum_codes["UNAUTHENTICATED/missing_authorization"], 1);
}

}  // namespace
}  // namespace tollgate
