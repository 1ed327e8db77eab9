// SumServer in-process, exactly as sum_service assembles it (HS256 from
// JWT_SECRET_KEY, the policy from sum.proto, the call pipeline), on a real
// gRPC server on 127.0.0.1:0 with a real client. Every refusal of SPEC
// section 3 that the interceptor can give, with its exact code, message and
// trailer; that a refused call never reaches business logic and carries no
// response message; streaming; overflow; usage; undecodable requests,
// unary and in a client stream (raw bodies through a generic stub).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <grpcpp/support/client_interceptor.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/request_decoding.h"
#include "common/token/access_token_issuer.h"
#include "common/token/jwk.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_server.h"
#include "tests/sum_service/local_sum_config.h"
#include "tests/support/fake_clock.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/test_keys.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::sum {
namespace {

using testing::FakeClock;
using testing::PrometheusText;
using testing::ScrapeMetrics;

constexpr char kSecret[] = "sum-server-test-secret-0123456789abcdef";
constexpr char kMissingMessage[] =
    "authorization metadata is required: send 'authorization: Bearer <token>'";
constexpr char kFormatMessage[] = "invalid authorization format: use 'authorization: Bearer <token>'";

// Counts response messages the client actually received, so a test can
// prove that a refused call carries none (a unary stub would hide it).
class ReceivedMessageCounter final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ReceivedMessageCounter(std::atomic<int>* count) : count_(count) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo*) override {
    return new Counter(count_);
  }

 private:
  class Counter final : public grpc::experimental::Interceptor {
   public:
    explicit Counter(std::atomic<int>* count) : count_(count) {}
    void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
      if (methods->QueryInterceptionHookPoint(
              grpc::experimental::InterceptionHookPoints::POST_RECV_MESSAGE) &&
          methods->GetRecvMessage() != nullptr) {
        count_->fetch_add(1);
      }
      methods->Proceed();
    }

   private:
    std::atomic<int>* count_;
  };
  std::atomic<int>* count_;
};

class SumServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = LocalSumConfig({}, {{"JWT_SECRET_KEY", kSecret}});
    ASSERT_TRUE(config.ok()) << config.status();
    auto server = SumServer::Start(*config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);

    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> counters;
    counters.push_back(std::make_unique<ReceivedMessageCounter>(&received_messages_));
    channel_ = grpc::experimental::CreateCustomChannelWithInterceptors(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(),
        grpc::ChannelArguments(), std::move(counters));
    stub_ = v1::SumService::NewStub(channel_);

    auto key = Jwk::FromHmacSecret(kSecret);
    ASSERT_TRUE(key.ok()) << key.status();
    issuer_ = std::make_unique<AccessTokenIssuer>(*key, AccessTokenOptions{}, random_);
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown();
  }

  std::string Mint(std::vector<std::string> roles, int64_t issued_at, std::string subject = "user-1") {
    auto token = issuer_->Issue(TokenSubject{subject, subject + "@example.com", std::move(roles)}, issued_at);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->token : "";
  }
  std::string UserToken() { return Mint({"user"}, clock_.NowUnixSeconds()); }

  // Sum with the given `authorization` values; fills the server's trailers.
  grpc::Status Sum(const std::vector<std::string>& authorization, int64_t a, int64_t b,
                   v1::SumResponse* response, std::string* www_authenticate = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    for (const std::string& value : authorization) context.AddMetadata("authorization", value);
    v1::SumRequest request;
    request.set_a(a);
    request.set_b(b);
    grpc::Status status = stub_->Sum(&context, request, response);
    if (www_authenticate != nullptr) {
      auto trailers = context.GetServerTrailingMetadata();
      auto it = trailers.find("www-authenticate");
      *www_authenticate = it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
    }
    return status;
  }

  // Expects UNAUTHENTICATED with `message`, its RFC 6750 trailer, no response
  // message and no handler run.
  void ExpectUnauthenticated(const std::vector<std::string>& authorization, const std::string& message) {
    const int64_t admitted_before = server_->service().admitted_calls();
    const int received_before = received_messages_.load();
    v1::SumResponse response;
    std::string challenge;
    grpc::Status status = Sum(authorization, 1, 2, &response, &challenge);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(status.error_message(), message);
    EXPECT_EQ(challenge, "Bearer error=\"invalid_token\", error_description=\"" + message + "\"");
    EXPECT_EQ(server_->service().admitted_calls(), admitted_before);
    EXPECT_EQ(received_messages_.load(), received_before);
  }

  // Sum with raw request bytes (a generic stub), so the body can be
  // anything; fills the `www-authenticate` trailer.
  grpc::Status RawSum(const std::vector<std::string>& authorization, const std::string& body,
                      std::string* www_authenticate = nullptr) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    for (const std::string& value : authorization) context.AddMetadata("authorization", value);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/tollgate.sum.v1.SumService/Sum", grpc::StubOptions(), &request,
                      &response, [&done](grpc::Status status) { done.set_value(status); });
    std::future<grpc::Status> status = done.get_future();
    if (status.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "the call did not finish";
      return grpc::Status(grpc::StatusCode::UNKNOWN, "did not finish");
    }
    if (www_authenticate != nullptr) {
      auto trailers = context.GetServerTrailingMetadata();
      auto it = trailers.find("www-authenticate");
      *www_authenticate = it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
    }
    return status.get();
  }

  // What a raw SumStream call ended with.
  struct RawStreamResult {
    grpc::Status status;
    int writes_accepted = 0;  // writes the transport took (before the server ended the call)
    bool got_response = false;
    int64_t result = 0;  // SumResponse.result when got_response
  };

  // SumStream with raw message bodies (a generic client-streaming call on a
  // CompletionQueue), so a message can be anything; half-closes after the
  // last body, then reads the response and the status.
  RawStreamResult RawSumStream(const std::string& authorization, const std::vector<std::string>& bodies) {
    RawStreamResult result;
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    grpc::CompletionQueue cq;
    auto await = [&cq](intptr_t expected) {
      void* tag = nullptr;
      bool ok = false;
      const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
      if (cq.AsyncNext(&tag, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT) {
        ADD_FAILURE() << "no completion for step " << expected;
        return false;
      }
      EXPECT_EQ(reinterpret_cast<intptr_t>(tag), expected);
      return ok;
    };
    auto call = generic.PrepareCall(&context, "/tollgate.sum.v1.SumService/SumStream", &cq);
    call->StartCall(reinterpret_cast<void*>(1));
    bool open = await(1);
    for (const std::string& body : bodies) {
      if (!open) break;
      grpc::Slice slice(body);
      grpc::ByteBuffer message(&slice, 1);
      call->Write(message, reinterpret_cast<void*>(2));
      open = await(2);
      if (open) ++result.writes_accepted;
    }
    if (open) {
      call->WritesDone(reinterpret_cast<void*>(3));
      await(3);
    }
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void*>(4));
    if (await(4)) {
      result.got_response = true;
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(response.Dump(&slices).ok());
      std::string bytes;
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
      v1::SumResponse decoded;
      EXPECT_TRUE(decoded.ParseFromString(bytes));
      result.result = decoded.result();
    }
    call->Finish(&result.status, reinterpret_cast<void*>(5));
    await(5);
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
    return result;
  }

  // GetUsage as admin: subject -> calls.
  std::map<std::string, int64_t> Usage() {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + Mint({"admin"}, clock_.NowUnixSeconds(), "root"));
    v1::GetUsageResponse response;
    grpc::Status status = stub_->GetUsage(&context, v1::GetUsageRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, int64_t> usage;
    for (const v1::Usage& row : response.usage()) usage[row.subject()] = row.calls();
    return usage;
  }

  FakeClock clock_;
  tollgate::testing::CountingRandomSource random_;
  std::unique_ptr<SumServer> server_;
  std::atomic<int> received_messages_{0};
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SumService::Stub> stub_;
  std::unique_ptr<AccessTokenIssuer> issuer_;
};

TEST_F(SumServerTest, HttpPortServesHealthReadinessAndMetrics) {
  ASSERT_GT(server_->http_port(), 0);
  httplib::Client http("127.0.0.1", server_->http_port());
  http.set_read_timeout(5, 0);
  auto healthz = http.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  auto readyz = http.Get("/readyz");  // the HS256 key is held from the start
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);
  absl::StatusOr<PrometheusText> metrics = ScrapeMetrics(server_->http_port());
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_TRUE(metrics->Value("process_resident_memory_bytes").has_value());
  EXPECT_EQ(http.Get("/.well-known/jwks.json")->status, 404);  // AuthService's, not ours
  server_->Shutdown();
  // Stopping: the HTTP port goes with the gRPC server.
  EXPECT_FALSE(http.Get("/healthz"));
}

TEST_F(SumServerTest, SumsWithAValidUserToken) {
  v1::SumResponse response;
  grpc::Status status = Sum({"Bearer " + UserToken()}, 40, 2, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result(), 42);
  EXPECT_EQ(server_->service().admitted_calls(), 1);
  EXPECT_EQ(received_messages_.load(), 1);
}

TEST_F(SumServerTest, AcceptsTheBearerSchemeInAnyCase) {
  v1::SumResponse response;
  ASSERT_TRUE(Sum({"bearer " + UserToken()}, 1, 1, &response).ok());
  EXPECT_EQ(response.result(), 2);
}

TEST_F(SumServerTest, RejectsACallWithoutAuthorizationMetadata) {
  ExpectUnauthenticated({}, kMissingMessage);
}

TEST_F(SumServerTest, RejectsBasicAuthorization) {
  ExpectUnauthenticated({"Basic dXNlcjpwYXNz"}, kFormatMessage);
}

TEST_F(SumServerTest, RejectsTwoAuthorizationValues) {
  const std::string token = UserToken();
  ExpectUnauthenticated({"Bearer " + token, "Bearer " + token}, kFormatMessage);
}

TEST_F(SumServerTest, RejectsAnEmptyBearerToken) { ExpectUnauthenticated({"Bearer "}, kFormatMessage); }

TEST_F(SumServerTest, RejectsATokenOverEightKibibytes) {
  ExpectUnauthenticated({"Bearer " + std::string(8193, 'a')}, kFormatMessage);
}

TEST_F(SumServerTest, MetadataBeyondTheTransportLimitIsResourceExhausted) {
  // Past the server's 16 KiB metadata limit gRPC itself answers first.
  v1::SumResponse response;
  grpc::Status status = Sum({"Bearer " + std::string(20000, 'a')}, 1, 2, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(server_->service().admitted_calls(), 0);
}

TEST_F(SumServerTest, RejectsATokenExpiredBeyondTheLeeway) {
  // Issued 900 s + 30 s leeway ago: exactly at the edge, so refused.
  const std::string token = Mint({"user"}, clock_.NowUnixSeconds() - 930);
  ExpectUnauthenticated({"Bearer " + token}, "token expired");
}

TEST_F(SumServerTest, AcceptsATokenOneSecondInsideTheLeeway) {
  const std::string token = Mint({"user"}, clock_.NowUnixSeconds() - 929);
  v1::SumResponse response;
  EXPECT_TRUE(Sum({"Bearer " + token}, 1, 2, &response).ok());
}

TEST_F(SumServerTest, ACachedTokenStillExpiresOnTime) {
  const std::string token = UserToken();
  v1::SumResponse response;
  ASSERT_TRUE(Sum({"Bearer " + token}, 1, 2, &response).ok());
  clock_.Advance(930);
  ExpectUnauthenticated({"Bearer " + token}, "token expired");
}

TEST_F(SumServerTest, RejectsATokenOfAnotherIssuerOrAudience) {
  auto key = Jwk::FromHmacSecret(kSecret);
  ASSERT_TRUE(key.ok());
  AccessTokenIssuer other_issuer(*key, AccessTokenOptions{"someone-else", "tollgate", 900}, random_);
  AccessTokenIssuer other_audience(*key, AccessTokenOptions{"tollgate", "another-api", 900}, random_);
  auto wrong_issuer = other_issuer.Issue(TokenSubject{"u", "u@example.com", {"user"}}, clock_.NowUnixSeconds());
  auto wrong_audience = other_audience.Issue(TokenSubject{"u", "u@example.com", {"user"}}, clock_.NowUnixSeconds());
  ASSERT_TRUE(wrong_issuer.ok() && wrong_audience.ok());
  ExpectUnauthenticated({"Bearer " + wrong_issuer->token}, "invalid token: " + std::string(ToString(TokenError::kWrongIssuer)));
  ExpectUnauthenticated({"Bearer " + wrong_audience->token},
                        "invalid token: " + std::string(ToString(TokenError::kWrongAudience)));
}

TEST_F(SumServerTest, RejectsATokenOfAnotherSecretAsUnknownKid) {
  // An HS256 kid is the RFC 7638 thumbprint of the secret, so a token made
  // with another secret names a key this server does not hold.
  auto key = Jwk::FromHmacSecret("another-secret-another-secret-0123456789");
  ASSERT_TRUE(key.ok());
  AccessTokenIssuer forger(*key, AccessTokenOptions{}, random_);
  auto token = forger.Issue(TokenSubject{"u", "u@example.com", {"user", "admin"}}, clock_.NowUnixSeconds());
  ASSERT_TRUE(token.ok());
  ExpectUnauthenticated({"Bearer " + token->token},
                        "invalid token: " + std::string(ToString(TokenError::kUnknownKid)));
}

TEST_F(SumServerTest, RejectsATokenWithATamperedSignature) {
  std::string token = UserToken();
  // Change one character in the middle of the signature segment.
  const size_t signature_start = token.rfind('.') + 1;
  char& c = token[signature_start + 10];
  c = (c == 'A') ? 'B' : 'A';
  ExpectUnauthenticated({"Bearer " + token},
                        "invalid token: " + std::string(ToString(TokenError::kBadSignature)));
}

TEST_F(SumServerTest, RejectsATokenWithElevatedRolesButTheOriginalSignature) {
  // Swap the payload for one claiming admin, keep the user token's signature.
  const std::string user = UserToken();
  const std::string admin = Mint({"user", "admin"}, clock_.NowUnixSeconds());
  const std::string forged = admin.substr(0, admin.rfind('.')) + user.substr(user.rfind('.'));
  ExpectUnauthenticated({"Bearer " + forged},
                        "invalid token: " + std::string(ToString(TokenError::kBadSignature)));
}

TEST_F(SumServerTest, RejectsARefreshTokenPresentedAsAnAccessToken) {
  ExpectUnauthenticated({"Bearer tgr_Qk9HVVMtcmVmcmVzaC10b2tlbi1ieXRlcy0wMTIzNDU2Nzg5YWJjZGVm"},
                        "invalid token: " + std::string(ToString(TokenError::kMalformed)));
}

TEST_F(SumServerTest, UserTokenOnGetUsageIsPermissionDeniedWithoutRunningTheHandler) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + UserToken());
  v1::GetUsageResponse response;
  grpc::Status status = stub_->GetUsage(&context, v1::GetUsageRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(), "method tollgate.sum.v1.SumService/GetUsage requires role 'admin'");
  auto trailers = context.GetServerTrailingMetadata();
  auto challenge = trailers.find("www-authenticate");
  ASSERT_NE(challenge, trailers.end());
  EXPECT_EQ(std::string(challenge->second.data(), challenge->second.size()),
            "Bearer error=\"insufficient_scope\", error_description=\"method "
            "tollgate.sum.v1.SumService/GetUsage requires role 'admin'\"");
  EXPECT_EQ(server_->service().admitted_calls(), 0);
  EXPECT_EQ(received_messages_.load(), 0);
}

TEST_F(SumServerTest, AdminSeesUsagePerSubject) {
  v1::SumResponse sum;
  ASSERT_TRUE(Sum({"Bearer " + Mint({"user"}, clock_.NowUnixSeconds(), "alice")}, 1, 1, &sum).ok());
  ASSERT_TRUE(Sum({"Bearer " + Mint({"user"}, clock_.NowUnixSeconds(), "alice")}, 1, 1, &sum).ok());
  ASSERT_TRUE(Sum({"Bearer " + Mint({"user"}, clock_.NowUnixSeconds(), "bob")}, 1, 1, &sum).ok());
  ExpectUnauthenticated({}, kMissingMessage);  // refused calls are not usage

  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + Mint({"admin"}, clock_.NowUnixSeconds(), "root"));
  v1::GetUsageResponse response;
  grpc::Status status = stub_->GetUsage(&context, v1::GetUsageRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.usage_size(), 2);
  EXPECT_EQ(response.usage(0).subject(), "alice");
  EXPECT_EQ(response.usage(0).calls(), 2);
  EXPECT_EQ(response.usage(1).subject(), "bob");
  EXPECT_EQ(response.usage(1).calls(), 1);
}

TEST_F(SumServerTest, OverflowIsOutOfRange) {
  v1::SumResponse response;
  grpc::Status status = Sum({"Bearer " + UserToken()}, std::numeric_limits<int64_t>::max(), 1, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  status = Sum({"Bearer " + UserToken()}, std::numeric_limits<int64_t>::min(), -1, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  ASSERT_TRUE(Sum({"Bearer " + UserToken()}, std::numeric_limits<int64_t>::max(), 0, &response).ok());
  EXPECT_EQ(response.result(), std::numeric_limits<int64_t>::max());
}

TEST_F(SumServerTest, SumStreamSumsALongStream) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + UserToken());
  v1::SumResponse response;
  auto writer = stub_->SumStream(&context, &response);
  int64_t expected = 0;
  v1::SumStreamRequest request;
  for (int64_t i = 1; i <= 20000; ++i) {
    request.set_value(i * 1000);
    expected += i * 1000;
    ASSERT_TRUE(writer->Write(request)) << "at message " << i;
  }
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result(), expected);
}

TEST_F(SumServerTest, SumStreamOfNothingIsZero) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + UserToken());
  v1::SumResponse response;
  auto writer = stub_->SumStream(&context, &response);
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(response.result(), 0);
}

TEST_F(SumServerTest, SumStreamRejectsBeforeReadingWhenUnauthenticated) {
  grpc::ClientContext context;
  v1::SumResponse response;
  auto writer = stub_->SumStream(&context, &response);
  v1::SumStreamRequest request;
  request.set_value(1);
  // The server finishes at once without reading: writes soon fail rather
  // than being consumed.
  int written = 0;
  while (written < 100000 && writer->Write(request)) ++written;
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), kMissingMessage);
  EXPECT_LT(written, 100000);
  EXPECT_EQ(server_->service().admitted_calls(), 0);
  EXPECT_EQ(received_messages_.load(), 0);
}

TEST_F(SumServerTest, SumStreamOverflowIsOutOfRange) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + UserToken());
  v1::SumResponse response;
  auto writer = stub_->SumStream(&context, &response);
  v1::SumStreamRequest request;
  request.set_value(std::numeric_limits<int64_t>::max());
  writer->Write(request);
  writer->Write(request);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(SumServerTest, HealthIsServingWithoutAToken) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// SPEC section 3: a body that is not a SumRequest answers exactly
// INVALID_ARGUMENT "request could not be decoded", counted, with no business
// logic and no response message. With a valid token the call is admitted
// on the fast path (no interceptor). Invalid UTF-8 needs a string field,
// which SumRequest lacks: request_decoding_test covers it.
TEST_F(SumServerTest, UndecodableSumRequestIsInvalidArgument) {
  const std::string bearer = "Bearer " + UserToken();
  const uint64_t counted_before = UndecodableRequestsTotal();
  int calls = 0;
  for (const std::string& body : {std::string("\xff\xff\xff", 3),  // not a message
                                  std::string("\x08\x80", 2),       // a: varint cut off
                                  std::string("\x0a\x05" "ab", 4)}) {  // length past the end
    grpc::Status status = RawSum({bearer}, body);
    ++calls;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(status.error_message(), "request could not be decoded");
    EXPECT_EQ(UndecodableRequestsTotal(), counted_before + calls);
  }
  EXPECT_EQ(server_->service().admitted_calls(), 0);
  EXPECT_EQ(received_messages_.load(), 0);

  // A well-formed body still works: SumRequest{a: 40, b: 2}.
  EXPECT_TRUE(RawSum({bearer}, std::string("\x08\x28\x10\x02", 4)).ok());
  EXPECT_EQ(server_->service().admitted_calls(), 1);
  EXPECT_EQ(UndecodableRequestsTotal(), counted_before + calls);
}

// Auth wins: without a token the garbage body gets the refusal, not a hint
// about the message, and is not counted as undecodable.
TEST_F(SumServerTest, UndecodableSumRequestWithoutATokenIsUnauthenticated) {
  const uint64_t counted_before = UndecodableRequestsTotal();
  std::string challenge;
  grpc::Status status = RawSum({}, std::string("\xff\xff\xff", 3), &challenge);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), kMissingMessage);
  EXPECT_EQ(challenge,
            std::string("Bearer error=\"invalid_token\", error_description=\"") + kMissingMessage + "\"");
  EXPECT_EQ(UndecodableRequestsTotal(), counted_before);
  EXPECT_EQ(server_->service().admitted_calls(), 0);
}

// SumStreamRequest{value: v} as the client would encode it.
std::string ValueMessage(int64_t value) {
  v1::SumStreamRequest request;
  request.set_value(value);
  return request.SerializeAsString();
}

// SPEC section 3 for client streaming: a message in the stream that does not
// decode ends the call with exactly INVALID_ARGUMENT "request could not be
// decoded", counted once, with no response message (not the partial sum
// with OK), and is not usage. The messages after it are not read.
TEST_F(SumServerTest, UndecodableMessageInSumStreamIsInvalidArgument) {
  const uint64_t counted_before = UndecodableRequestsTotal();
  RawStreamResult result = RawSumStream(
      "Bearer " + UserToken(), {ValueMessage(1), ValueMessage(2), std::string("\xff\xff\xff", 3), ValueMessage(4)});
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << result.status.error_message();
  EXPECT_EQ(result.status.error_message(), "request could not be decoded");
  EXPECT_FALSE(result.got_response) << "response result " << result.result;
  EXPECT_EQ(received_messages_.load(), 0);
  EXPECT_EQ(UndecodableRequestsTotal(), counted_before + 1);
  EXPECT_EQ(server_->service().admitted_calls(), 1);  // the guard passed; the sum was not counted
  EXPECT_EQ(Usage(), (std::map<std::string, int64_t>{}));
}

// The undecodable message is the last one before the half-close: still not a
// clean end of the stream.
TEST_F(SumServerTest, UndecodableLastMessageOfSumStreamIsInvalidArgument) {
  const uint64_t counted_before = UndecodableRequestsTotal();
  RawStreamResult result =
      RawSumStream("Bearer " + UserToken(), {ValueMessage(1), std::string("\x08\x80", 2)});
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << result.status.error_message();
  EXPECT_EQ(result.status.error_message(), "request could not be decoded");
  EXPECT_FALSE(result.got_response);
  EXPECT_EQ(UndecodableRequestsTotal(), counted_before + 1);
  EXPECT_EQ(Usage(), (std::map<std::string, int64_t>{}));
}

// The same raw client with well-formed messages gets the sum, counted as
// usage and not as undecodable; an empty message is value 0.
TEST_F(SumServerTest, RawSumStreamOfWellFormedMessagesSums) {
  const uint64_t counted_before = UndecodableRequestsTotal();
  RawStreamResult result =
      RawSumStream("Bearer " + UserToken(), {ValueMessage(1), ValueMessage(2), std::string(), ValueMessage(4)});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.writes_accepted, 4);
  EXPECT_TRUE(result.got_response);
  EXPECT_EQ(result.result, 7);
  EXPECT_EQ(UndecodableRequestsTotal(), counted_before);
  EXPECT_EQ(Usage(), (std::map<std::string, int64_t>{{"user-1", 1}}));
}

// Auth wins on a stream too: without a token the garbage gets the refusal
// and is not counted as undecodable.
TEST_F(SumServerTest, UndecodableSumStreamWithoutATokenIsUnauthenticated) {
  const uint64_t counted_before = UndecodableRequestsTotal();
  RawStreamResult result = RawSumStream("", {std::string("\xff\xff\xff", 3)});
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(result.status.error_message(), kMissingMessage);
  EXPECT_FALSE(result.got_response);
  EXPECT_EQ(UndecodableRequestsTotal(), counted_before);
  EXPECT_EQ(server_->service().admitted_calls(), 0);
}

}  // namespace
}  // namespace tollgate::sum
