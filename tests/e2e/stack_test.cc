// The whole stack as real processes: a throwaway PostgreSQL, the auth_service
// binary signing ES256 with keys from PEM files, and the sum_service binary
// fetching its keys from AuthService.GetJwks over gRPC (SPEC sections 3, 6).
// Also interoperability with an independent JWT library (PyJWT).
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/random_source.h"
#include "common/token/access_token_issuer.h"
#include "common/token/jwk.h"
#include "common/token/token_error.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate {
namespace {

using grpc::health::v1::HealthCheckResponse;
using testing::ChildProcess;
using testing::PostgresCluster;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPassword[] = "correct horse battery staple";
constexpr char kAdminEmail[] = "root@example.com";
constexpr char kAdminPassword[] = "admin password for the stack test";
constexpr char kSharedSecret[] = "stack-test-shared-secret-0123456789abcdef";
constexpr auto kStartTimeout = std::chrono::seconds(60);

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A port that was free a moment ago, for a service that must come back on
// the same address after a restart.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::string Target(int port) { return "127.0.0.1:" + std::to_string(port); }

// Runs a command and returns its stdout (the exit status in *exit_code).
std::string RunCommand(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return output;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  *exit_code = pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

class StackTest : public testing::PostgresSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    char pattern[] = "/tmp/tollgate-stack-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    key_a_ = WriteKey("key-a.pem");
    key_b_ = WriteKey("key-b.pem");
    // Each test gets its own database, so accounts never collide.
    static int database_number = 0;
    auto url = cluster_->CreateDatabase("stack_" + std::to_string(getpid()) + "_" +
                                        std::to_string(++database_number));
    ASSERT_TRUE(url.ok()) << url.status();
    database_url_ = *url;
    auth_port_ = FreePort();
  }

  void TearDown() override {
    for (auto* process : {&sum_, &auth_}) {
      if (*process) {
        EXPECT_TRUE((*process)->Terminate().ok());
        EXPECT_EQ((*process)->ExitCode(), 0) << "SIGTERM must drain and exit 0";
        process->reset();
      }
    }
    std::filesystem::remove_all(dir_);
  }

  std::string WriteKey(const std::string& name) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256);
    return path;
  }

  void StartAuth(const std::string& signing_keys) {
    auto process = ChildProcess::Start(
        kAuthServiceBinary, {},
        {"AUTH_LISTEN=" + Target(auth_port_), "AUTH_DATABASE_URL=" + database_url_,
         "AUTH_SIGNING_KEYS=" + signing_keys, "AUTH_ARGON2_MEMORY_KIB=8192",
         "AUTH_ARGON2_ITERATIONS=1", std::string("AUTH_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail,
         std::string("AUTH_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword});
    ASSERT_TRUE(process.ok()) << process.status();
    auth_ = *std::move(process);
    auto port = auth_->WaitForPort(kStartTimeout);
    ASSERT_TRUE(port.ok()) << port.status();
    ASSERT_EQ(*port, auth_port_);
    auth_stub_ = auth::v1::AuthService::NewStub(
        grpc::CreateChannel(Target(auth_port_), grpc::InsecureChannelCredentials()));
  }

  void StartSum(std::vector<std::string> environment) {
    environment.push_back("SUM_LISTEN=127.0.0.1:0");
    auto process = ChildProcess::Start(kSumServiceBinary, {}, environment);
    ASSERT_TRUE(process.ok()) << process.status();
    sum_ = *std::move(process);
    auto port = sum_->WaitForPort(kStartTimeout);
    ASSERT_TRUE(port.ok()) << port.status();
    sum_channel_ = grpc::CreateChannel(Target(*port), grpc::InsecureChannelCredentials());
    sum_stub_ = sum::v1::SumService::NewStub(sum_channel_);
  }
  void StartSumFromAuthService() { StartSum({"SUM_KEYS_SOURCE=grpc://" + Target(auth_port_)}); }

  HealthCheckResponse::ServingStatus SumHealth() {
    auto health = grpc::health::v1::Health::NewStub(sum_channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    HealthCheckResponse response;
    grpc::Status status = health->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.status();
  }

  bool WaitForSumHealth(HealthCheckResponse::ServingStatus wanted, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (SumHealth() == wanted) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  auth::v1::AuthResponse Register(const std::string& email) {
    auth::v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    request.set_first_name("Ada");
    request.set_last_name("Lovelace");
    grpc::ClientContext context;
    auth::v1::AuthResponse response;
    grpc::Status status = auth_stub_->Register(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  auth::v1::AuthResponse Login(const std::string& email, const std::string& password) {
    auth::v1::LoginRequest request;
    request.set_email(email);
    request.set_password(password);
    grpc::ClientContext context;
    auth::v1::AuthResponse response;
    grpc::Status status = auth_stub_->Login(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Sum(const std::vector<std::string>& authorization, int64_t a, int64_t b,
                   int64_t* result = nullptr, std::string* www_authenticate = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    for (const std::string& value : authorization) context.AddMetadata("authorization", value);
    sum::v1::SumRequest request;
    request.set_a(a);
    request.set_b(b);
    sum::v1::SumResponse response;
    grpc::Status status = sum_stub_->Sum(&context, request, &response);
    if (result != nullptr) *result = response.result();
    if (www_authenticate != nullptr) {
      auto trailers = context.GetServerTrailingMetadata();
      auto it = trailers.find("www-authenticate");
      *www_authenticate = it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
    }
    return status;
  }

  // An access token signed directly with a key file of this test, as the
  // AuthService would sign it (or, with other options, as it never would).
  std::string Mint(const std::string& key_file, int64_t issued_at, AccessTokenOptions options = {}) {
    auto key = Jwk::FromPrivateKeyPemFile(key_file);
    EXPECT_TRUE(key.ok()) << key.status();
    AccessTokenIssuer issuer(*key, options, random_);
    auto token = issuer.Issue(TokenSubject{"minted-user", "minted@example.com", {"user"}}, issued_at);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->token : "";
  }

  std::string dir_;
  std::string key_a_;
  std::string key_b_;
  std::string database_url_;
  int auth_port_ = 0;
  std::unique_ptr<ChildProcess> auth_;
  std::unique_ptr<ChildProcess> sum_;
  std::unique_ptr<auth::v1::AuthService::Stub> auth_stub_;
  std::shared_ptr<grpc::Channel> sum_channel_;
  std::unique_ptr<sum::v1::SumService::Stub> sum_stub_;
  OpenSslRandomSource random_;
};


std::string InvalidToken(TokenError error) { return "invalid token: " + std::string(ToString(error)); }

TEST_F(StackTest, LoginThenSumAndTheRefusalsOfSpecSectionThree) {
  StartAuth(key_a_);
  StartSumFromAuthService();
  ASSERT_TRUE(WaitForSumHealth(HealthCheckResponse::SERVING, std::chrono::seconds(10)));
  Register("ada@example.com");
  const auth::v1::AuthResponse session = Login("ada@example.com", kPassword);
  ASSERT_FALSE(session.access_token().empty());

  int64_t result = 0;
  grpc::Status status = Sum({"Bearer " + session.access_token()}, 3, 4, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result, 7);

  struct Case {
    const char* name;
    std::vector<std::string> authorization;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no metadata", {}, "authorization metadata is required: send 'authorization: Bearer <token>'"},
      {"Basic", {"Basic eDp5"}, "invalid authorization format: use 'authorization: Bearer <token>'"},
      {"two values",
       {"Bearer " + session.access_token(), "Bearer " + session.access_token()},
       "invalid authorization format: use 'authorization: Bearer <token>'"},
      {"expired", {"Bearer " + Mint(key_a_, NowUnixSeconds() - 3600)}, "token expired"},
      {"another issuer",
       {"Bearer " + Mint(key_a_, NowUnixSeconds(), AccessTokenOptions{"evil", "tollgate", 900})},
       InvalidToken(TokenError::kWrongIssuer)},
      {"another audience",
       {"Bearer " + Mint(key_a_, NowUnixSeconds(), AccessTokenOptions{"tollgate", "other-api", 900})},
       InvalidToken(TokenError::kWrongAudience)},
      {"refresh token as access token", {"Bearer " + session.refresh_token()},
       InvalidToken(TokenError::kMalformed)},
  };
  for (const Case& c : cases) {
    std::string challenge;
    status = Sum(c.authorization, 3, 4, &result, &challenge);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << c.name;
    EXPECT_EQ(status.error_message(), c.message) << c.name;
    EXPECT_EQ(challenge, "Bearer error=\"invalid_token\", error_description=\"" + c.message + "\"")
        << c.name;
  }

  // A valid user token on the admin method.
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + session.access_token());
    sum::v1::GetUsageResponse usage;
    status = sum_stub_->GetUsage(&context, sum::v1::GetUsageRequest(), &usage);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(status.error_message(), "method tollgate.sum.v1.SumService/GetUsage requires role 'admin'");
  }
  // The bootstrap admin sees the user's one successful call.
  {
    const auth::v1::AuthResponse admin = Login(kAdminEmail, kAdminPassword);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + admin.access_token());
    sum::v1::GetUsageResponse usage;
    status = sum_stub_->GetUsage(&context, sum::v1::GetUsageRequest(), &usage);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(usage.usage_size(), 1);
    EXPECT_EQ(usage.usage(0).subject(), session.user().id());
    EXPECT_EQ(usage.usage(0).calls(), 1);
  }
}

TEST_F(StackTest, AMethodOutsideThePolicyIsDenied) {
  StartAuth(key_a_);
  StartSumFromAuthService();
  Register("ada@example.com");
  const auth::v1::AuthResponse session = Login("ada@example.com", kPassword);
  // A method that no .proto declares: no option, so deny by default, even
  // with a valid token.
  grpc::GenericStub generic(sum_channel_);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + session.access_token());
  grpc::Slice empty_message("", 0);  // an empty protobuf message, on the wire
  grpc::ByteBuffer request(&empty_message, 1);
  grpc::ByteBuffer response;
  std::mutex mutex;
  std::condition_variable done_changed;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&context, "/tollgate.sum.v1.SumService/DeleteEverything", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mutex);
                      status = s;
                      done = true;
                      done_changed.notify_all();
                    });
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(done_changed.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            "method tollgate.sum.v1.SumService/DeleteEverything is not in the access policy");
}

TEST_F(StackTest, SumServiceIsNotServingUntilItHoldsKeys) {
  StartSumFromAuthService();  // nothing listens on auth_port_ yet
  EXPECT_EQ(SumHealth(), HealthCheckResponse::NOT_SERVING);
  StartAuth(key_a_);
  EXPECT_TRUE(WaitForSumHealth(HealthCheckResponse::SERVING, std::chrono::seconds(10)));
  EXPECT_TRUE(Sum({"Bearer " + Mint(key_a_, NowUnixSeconds())}, 1, 1).ok());
}

TEST_F(StackTest, KeyRotationNeedsNoRestartOfSumService) {
  StartAuth(key_a_);
  StartSumFromAuthService();
  ASSERT_TRUE(WaitForSumHealth(HealthCheckResponse::SERVING, std::chrono::seconds(10)));
  Register("ada@example.com");
  const std::string old_token = Login("ada@example.com", kPassword).access_token();
  ASSERT_TRUE(Sum({"Bearer " + old_token}, 1, 1).ok());

  // Rotate: key B signs from now on, key A is still published.
  ASSERT_TRUE(auth_->Terminate().ok());
  StartAuth(key_b_ + "," + key_a_);
  const std::string new_token = Login("ada@example.com", kPassword).access_token();
  grpc::Status status = Sum({"Bearer " + new_token}, 2, 2);
  EXPECT_TRUE(status.ok()) << "a token of the new key: " << status.error_message();
  // An unexpired token of the old key that SumService has never seen (so not
  // from its token cache) still verifies with the re-fetched key set.
  status = Sum({"Bearer " + Mint(key_a_, NowUnixSeconds())}, 2, 2);
  EXPECT_TRUE(status.ok()) << "a token of the old key: " << status.error_message();
  EXPECT_TRUE(Sum({"Bearer " + old_token}, 1, 1).ok());
}

TEST_F(StackTest, KeepsVerifyingWithCachedKeysWhileAuthServiceIsDown) {
  StartAuth(key_a_);
  StartSumFromAuthService();
  ASSERT_TRUE(WaitForSumHealth(HealthCheckResponse::SERVING, std::chrono::seconds(10)));
  ASSERT_TRUE(auth_->Terminate().ok());
  EXPECT_EQ(auth_->ExitCode(), 0);
  auth_.reset();
  // Tokens SumService has never seen, so only its held keys can verify them.
  int64_t result = 0;
  grpc::Status status = Sum({"Bearer " + Mint(key_a_, NowUnixSeconds())}, 20, 22, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result, 42);
  EXPECT_EQ(SumHealth(), HealthCheckResponse::SERVING);
  // An unknown kid cannot be fetched now: refused, and SumService lives on.
  status = Sum({"Bearer " + Mint(key_b_, NowUnixSeconds())}, 1, 1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), InvalidToken(TokenError::kUnknownKid));
  EXPECT_TRUE(Sum({"Bearer " + Mint(key_a_, NowUnixSeconds())}, 1, 1).ok());
}

TEST_F(StackTest, AcceptsAnHs256TokenMintedByPyJwt) {
  StartSum({std::string("JWT_SECRET_KEY=") + kSharedSecret});
  const std::string mint =
      std::string(kPython) +
      " -c 'import jwt, sys, time, uuid\n"
      "now = int(time.time())\n"
      "claims = {\"iss\": \"tollgate\", \"aud\": \"tollgate\", \"sub\": \"pyjwt-user\", "
      "\"iat\": now, \"nbf\": now, \"exp\": now + 300, \"jti\": str(uuid.uuid4()), "
      "\"roles\": [\"user\"], \"email\": \"py@example.com\"}\n"
      "print(jwt.encode(claims, sys.argv[1], algorithm=\"HS256\", headers={\"typ\": sys.argv[2]}))' ";
  int exit_code = 0;
  const std::string token = RunCommand(mint + kSharedSecret + " at+jwt", &exit_code);
  ASSERT_EQ(exit_code, 0) << token;
  int64_t result = 0;
  grpc::Status status = Sum({"Bearer " + token}, 5, 6, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result, 11);

  // PyJWT's default typ "JWT" is not an RFC 9068 access token.
  const std::string id_token_like = RunCommand(mint + kSharedSecret + " JWT", &exit_code);
  ASSERT_EQ(exit_code, 0);
  status = Sum({"Bearer " + id_token_like}, 5, 6);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), InvalidToken(TokenError::kWrongType));
}

TEST_F(StackTest, AuthServiceTokensVerifyInPyJwtFromGetJwks) {
  StartAuth(key_b_ + "," + key_a_);
  const auth::v1::AuthResponse registered = Register("ada@example.com");
  grpc::ClientContext context;
  auth::v1::GetJwksResponse jwks;
  ASSERT_TRUE(auth_stub_->GetJwks(&context, auth::v1::GetJwksRequest(), &jwks).ok());
  const std::string jwks_file = dir_ + "/jwks.json";
  std::ofstream(jwks_file) << jwks.jwks_json();

  const std::string verify =
      std::string(kPython) +
      " -c 'import jwt, json, sys\n"
      "token = sys.argv[2]\n"
      "keys = {k.key_id: k for k in jwt.PyJWKSet.from_json(open(sys.argv[1]).read()).keys}\n"
      "key = keys[jwt.get_unverified_header(token)[\"kid\"]]\n"
      "claims = jwt.decode(token, key.key, algorithms=[\"ES256\"], audience=\"tollgate\", "
      "issuer=\"tollgate\")\n"
      "print(len(keys), claims[\"sub\"], claims[\"email\"], \",\".join(claims[\"roles\"]))' ";
  int exit_code = 0;
  const std::string output = RunCommand(verify + jwks_file + " " + registered.access_token(), &exit_code);
  ASSERT_EQ(exit_code, 0) << output;
  EXPECT_EQ(output, "2 " + registered.user().id() + " ada@example.com user");
}

// What `grpcurl -plaintext HOST:PORT list` does, without grpcurl (not
// packaged here): one reflection request, no token. Returns the raw reply.
std::string ListServicesByReflection(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue queue;
  auto stream =
      generic.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag = nullptr;
  bool ok = false;
  std::string bytes;
  auto step = [&](auto&& start) {
    start();
    return queue.Next(&tag, &ok) && ok;
  };
  // ServerReflectionRequest { list_services: "" }: field 7, length 0.
  grpc::Slice request_bytes(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&request_bytes, 1);
  grpc::ByteBuffer response;
  if (step([&] { stream->StartCall(&queue); }) && step([&] { stream->Write(request, &queue); }) &&
      step([&] { stream->Read(&response, &queue); })) {
    std::vector<grpc::Slice> slices;
    if (response.Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
  }
  context.TryCancel();
  grpc::Status status;
  stream->Finish(&status, &queue);
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return bytes;
}

TEST_F(StackTest, ReflectionListsTheServicesWithoutAToken) {
  StartAuth(key_a_);
  StartSumFromAuthService();
  const std::string sum_services = ListServicesByReflection(sum_channel_);
  EXPECT_NE(sum_services.find("tollgate.sum.v1.SumService"), std::string::npos);
  EXPECT_NE(sum_services.find("grpc.health.v1.Health"), std::string::npos);
  const std::string auth_services = ListServicesByReflection(
      grpc::CreateChannel(Target(auth_port_), grpc::InsecureChannelCredentials()));
  EXPECT_NE(auth_services.find("tollgate.auth.v1.AuthService"), std::string::npos);
  EXPECT_NE(auth_services.find("grpc.reflection.v1alpha.ServerReflection"), std::string::npos);
}

}  // namespace
}  // namespace tollgate
