// An access token from Login, checked by a verifier that shares no code with
// tollgate: PyJWT (Debian python3-jwt, run by /usr/bin/python3 through
// tests/support/pyjwt_verify.py) with the keys it fetches from AuthService's
// /.well-known/jwks.json over HTTP, as an API gateway would. One key type
// per run (ES256, EdDSA, RS256); PyJWT must accept the token as issued and
// refuse it tampered, for another audience or issuer, and expired. No skip:
// a missing Python or PyJWT fails the test (scripts/install_deps.sh installs
// them).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/token/base64url.h"
#include "common/token/jwk.h"
#include "nlohmann/json.hpp"
#include "tests/auth_service/in_process_auth_server.h"
#include "tests/support/child_process.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {
namespace {

constexpr char kPassword[] = "correct horse battery staple";
constexpr char kPython[] = "/usr/bin/python3";

// What pyjwt_verify.py said about one token.
struct PyJwtVerdict {
  int exit_code = -1;
  std::string output;  // the claims (exit 0) or "refused: <exception>" (exit 1)
};

class JwksPyJwtTest : public InProcessAuthServerSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tollgate_jwks_pyjwt_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    key_dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    if (!key_dir_.empty()) std::filesystem::remove_all(key_dir_, ignored);
  }

  // AuthService signing with a fresh key of `algorithm`, HTTP port on, the
  // clock at real time (PyJWT checks exp and iat against it) moved by
  // `clock_offset_seconds`.
  void StartSigningWith(JwsAlgorithm algorithm, int64_t clock_offset_seconds = 0) {
    const std::string key_file = key_dir_ + "/signing-key.pem";
    std::ofstream(key_file) << tollgate::testing::GeneratePrivateKeyPem(algorithm);
    config_ = TestAuthConfig(cluster_->url());
    config_.jwt_secret_key.clear();
    config_.signing_key_files = {key_file};
    config_.http_listen_address = "127.0.0.1:0";
    clock_.Set(static_cast<int64_t>(std::time(nullptr)) + clock_offset_seconds);
    StartServer();
  }

  // Registers an account and logs it in; the access token of the Login.
  std::string LoginToken(std::string* user_id = nullptr) {
    const std::string email = NewEmail();
    v1::RegisterRequest registration;
    registration.set_email(email);
    registration.set_password(kPassword);
    registration.set_first_name("Ada");
    registration.set_last_name("Lovelace");
    v1::AuthResponse registered;
    grpc::ClientContext register_context;
    const grpc::Status created = stub_->Register(&register_context, registration, &registered);
    EXPECT_TRUE(created.ok()) << created.error_message();
    v1::LoginRequest login;
    login.set_email(email);
    login.set_password(kPassword);
    v1::AuthResponse logged_in;
    grpc::ClientContext login_context;
    const grpc::Status status = stub_->Login(&login_context, login, &logged_in);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (user_id != nullptr) *user_id = logged_in.user().id();
    return logged_in.access_token();
  }

  PyJwtVerdict Verify(const std::string& token, const std::string& issuer = "tollgate",
                      const std::string& audience = "tollgate") {
    PyJwtVerdict verdict;
    auto child = tollgate::testing::ChildProcess::Start(
        kPython,
        {TOLLGATE_PYJWT_VERIFY_SCRIPT, "--jwks-url",
         "http://127.0.0.1:" + std::to_string(server_->http_port()) + "/.well-known/jwks.json",
         "--issuer", issuer, "--audience", audience},
        {"PYJWT_TOKEN=" + token});
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return verdict;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((*child)->Running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_FALSE((*child)->Running()) << "pyjwt_verify.py did not finish within 30 s";
    verdict.exit_code = (*child)->ExitCode();
    verdict.output = (*child)->Output();
    while (!verdict.output.empty() && verdict.output.back() == '\n') verdict.output.pop_back();
    return verdict;
  }

  static void ExpectRefused(const PyJwtVerdict& verdict, const std::string& exception) {
    EXPECT_EQ(verdict.exit_code, 1) << verdict.output;
    EXPECT_EQ(verdict.output, "refused: " + exception);
  }

  std::string key_dir_;
};

class JwksPyJwtAlgorithmTest : public JwksPyJwtTest,
                               public ::testing::WithParamInterface<JwsAlgorithm> {};

TEST_P(JwksPyJwtAlgorithmTest, PyJwtAcceptsTheLoginTokenWithTheHttpJwks) {
  StartSigningWith(GetParam());
  std::string user_id;
  const std::string token = LoginToken(&user_id);
  const PyJwtVerdict verdict = Verify(token);
  ASSERT_EQ(verdict.exit_code, 0) << verdict.output;
  const nlohmann::json claims = nlohmann::json::parse(verdict.output, nullptr, false);
  ASSERT_TRUE(claims.is_object()) << verdict.output;
  EXPECT_EQ(claims.value("sub", ""), user_id);
  EXPECT_EQ(claims.value("iss", ""), "tollgate");
  EXPECT_EQ(claims["aud"], "tollgate");
  EXPECT_EQ(claims.value("exp", int64_t{0}), claims.value("iat", int64_t{0}) + 900);
}

// The payload gains role "admin"; header and signature are the original's.
TEST_P(JwksPyJwtAlgorithmTest, PyJwtRefusesTheTokenWithATamperedPayload) {
  StartSigningWith(GetParam());
  const std::string token = LoginToken();
  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  auto payload = Base64UrlDecode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  ASSERT_TRUE(payload.has_value());
  nlohmann::json claims = nlohmann::json::parse(*payload);
  claims["roles"] = {"user", "admin"};
  const std::string tampered = token.substr(0, first_dot + 1) + Base64UrlEncode(claims.dump()) +
                               token.substr(second_dot);
  ASSERT_EQ(Verify(token).exit_code, 0);  // the original still passes
  ExpectRefused(Verify(tampered), "InvalidSignatureError");
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, JwksPyJwtAlgorithmTest,
                         ::testing::Values(JwsAlgorithm::kES256, JwsAlgorithm::kEdDSA,
                                           JwsAlgorithm::kRS256),
                         [](const ::testing::TestParamInfo<JwsAlgorithm>& info) {
                           return std::string(AlgorithmName(info.param));
                         });

TEST_F(JwksPyJwtTest, PyJwtRefusesAnotherAudienceOrIssuer) {
  StartSigningWith(JwsAlgorithm::kES256);
  const std::string token = LoginToken();
  ExpectRefused(Verify(token, "tollgate", "another-service"), "InvalidAudienceError");
  ExpectRefused(Verify(token, "another-issuer", "tollgate"), "InvalidIssuerError");
}

// Issued two hours ago by the service's clock: expired for PyJWT now.
TEST_F(JwksPyJwtTest, PyJwtRefusesAnExpiredToken) {
  StartSigningWith(JwsAlgorithm::kES256, /*clock_offset_seconds=*/-2 * 3600);
  ExpectRefused(Verify(LoginToken()), "ExpiredSignatureError");
}

// A token signed by a key the set does not publish.
TEST_F(JwksPyJwtTest, PyJwtFindsNoKeyForATokenOfAnotherSigner) {
  StartSigningWith(JwsAlgorithm::kES256);
  const std::string token = LoginToken();
  StartSigningWith(JwsAlgorithm::kES256);  // a new key: the old one is gone from the set
  ExpectRefused(Verify(token), "UnknownKid");
}

}  // namespace
}  // namespace tollgate::auth
