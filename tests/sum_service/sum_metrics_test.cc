// SumService's tollgate_* metrics as an operator sees them: an in-process
// SumServer whose keys come over gRPC (SUM_KEYS_SOURCE=grpc://) from a fake
// AuthService that serves GetJwks only, both on 127.0.0.1:0; /metrics is
// scraped over HTTP and parsed (tests/support/prometheus_text.h) before and
// after known calls, and the exact change of each counter checked: key
// fetches by result and the age of the keys, denials by reason, and
// token-cache hits and misses.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/token/jwk.h"
#include "common/token/jwk_set.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_server.h"
#include "tests/common/auth/test_tokens.h"
#include "tests/sum_service/local_sum_config.h"
#include "tests/support/fake_clock.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::sum {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using tollgate::testing::Delta;
using tollgate::testing::PrometheusText;
using tollgate::testing::ServedValue;

// AuthService with GetJwks only, answering the JWK Set the test sets.
class JwksOnlyAuthService final : public auth::v1::AuthService::Service {
 public:
  explicit JwksOnlyAuthService(std::string jwks_json) : jwks_json_(std::move(jwks_json)) {}
  grpc::Status GetJwks(grpc::ServerContext*, const auth::v1::GetJwksRequest*,
                       auth::v1::GetJwksResponse* response) override {
    std::lock_guard<std::mutex> lock(mutex_);
    response->set_jwks_json(jwks_json_);
    return grpc::Status::OK;
  }

 private:
  std::mutex mutex_;
  std::string jwks_json_;
};

class SumMetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signing_key_ = new Jwk(tollgate::testing::GenerateKey(JwsAlgorithm::kES256));
    unpublished_key_ = new Jwk(tollgate::testing::GenerateKey(JwsAlgorithm::kES256));
  }
  static void TearDownTestSuite() {
    delete signing_key_;
    delete unpublished_key_;
  }

  void SetUp() override {
    grpc::ServerBuilder builder;
    int auth_port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &auth_port);
    builder.RegisterService(&auth_service_);
    auth_server_ = builder.BuildAndStart();
    ASSERT_NE(auth_server_, nullptr);

    auto config = LocalSumConfig({"--keys-source=grpc://127.0.0.1:" + std::to_string(auth_port)});
    ASSERT_TRUE(config.ok()) << config.status();
    started_ = steady_clock::now();
    auto server = SumServer::Start(*config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::SumService::NewStub(channel_);

    // The first fetch runs in the background: wait (bounded) for its count.
    const auto deadline = steady_clock::now() + std::chrono::seconds(10);
    while (Scrape().Value("tollgate_jwks_fetch_total", {{"result", "ok"}}) != 1.0 &&
           steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_EQ(Scrape().Value("tollgate_jwks_fetch_total", {{"result", "ok"}}), 1.0);
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    server_.reset();  // before the fake AuthService its key source talks to
    if (auth_server_) auth_server_->Shutdown();
  }

  PrometheusText Scrape() {
    return tollgate::testing::ScrapeMetricsOrFail(server_->http_port());
  }
  // tollgate_auth_denied_total's change by reason, without unchanged reasons.
  static std::map<std::string, double> DenialDeltas(const PrometheusText& before,
                                                    const PrometheusText& after) {
    return tollgate::testing::DeltasByLabel(before, after, "tollgate_auth_denied_total",
                                            "reason");
  }

  std::string Mint(const Jwk& key, std::vector<std::string> roles, int64_t issued_at) {
    return tollgate::testing::TokenMinter(key).Mint(std::move(roles), issued_at);
  }
  std::string UserToken() { return Mint(*signing_key_, {"user"}, clock_.NowUnixSeconds()); }

  grpc::Status Sum(const std::string& access_token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!access_token.empty()) context.AddMetadata("authorization", "Bearer " + access_token);
    v1::SumRequest request;
    request.set_a(20);
    request.set_b(22);
    v1::SumResponse response;
    return stub_->Sum(&context, request, &response);
  }
  // Sum with a raw request body (a generic stub), so it can be bytes that
  // are no SumRequest.
  grpc::Status RawSum(const std::string& access_token, const std::string& body) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    context.AddMetadata("authorization", "Bearer " + access_token);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/tollgate.sum.v1.SumService/Sum", grpc::StubOptions(), &request,
                      &response, [&done](grpc::Status status) { done.set_value(status); });
    return done.get_future().get();  // the deadline bounds the wait
  }
  grpc::Status GetUsage(const std::string& access_token) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + access_token);
    v1::GetUsageResponse response;
    return stub_->GetUsage(&context, v1::GetUsageRequest(), &response);
  }

  static Jwk* signing_key_;
  static Jwk* unpublished_key_;
  JwksOnlyAuthService auth_service_{JwkSet::FromKeys({*signing_key_})->ToPublicJson()};
  std::unique_ptr<grpc::Server> auth_server_;
  tollgate::testing::FakeClock clock_;
  steady_clock::time_point started_;
  std::unique_ptr<SumServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SumService::Stub> stub_;
};

Jwk* SumMetricsTest::signing_key_ = nullptr;
Jwk* SumMetricsTest::unpublished_key_ = nullptr;

TEST_F(SumMetricsTest, CountsTheFirstKeyFetchAndServesTheKeysAge) {
  const PrometheusText text = Scrape();
  EXPECT_EQ(text.Type("tollgate_jwks_fetch_total"), "counter");
  EXPECT_EQ(text.Type("tollgate_jwks_age_seconds"), "gauge");
  EXPECT_EQ(ServedValue(text, "tollgate_jwks_fetch_total", {{"result", "ok"}}), 1);
  EXPECT_EQ(ServedValue(text, "tollgate_jwks_fetch_total", {{"result", "error"}}), 0);
  EXPECT_EQ(ServedValue(text, "tollgate_jwks_fetch_total", {{"result", "rejected"}}), 0);
  // Fetched after the server started, read at this scrape.
  const double age = ServedValue(text, "tollgate_jwks_age_seconds");
  EXPECT_GE(age, 0);
  EXPECT_LE(age, std::chrono::duration<double>(steady_clock::now() - started_).count());
  for (const char* counter : {"tollgate_auth_denied_total", "tollgate_token_cache_hits_total",
                              "tollgate_token_cache_misses_total"}) {
    EXPECT_EQ(text.Type(counter), "counter") << counter;
  }
  // AuthService's own families are not SumService's.
  EXPECT_EQ(text.Type("tollgate_login_failures_total"), "");
}

TEST_F(SumMetricsTest, CountsDenialsByReasonAndTokenCacheHitsAndMisses) {
  const std::string token = UserToken();
  const std::string expired = Mint(*signing_key_, {"user"}, clock_.NowUnixSeconds() - 3600);
  const PrometheusText before = Scrape();

  for (int i = 0; i < 3; ++i) EXPECT_EQ(Sum("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Sum(token).ok());  // a miss, then hits
  EXPECT_EQ(GetUsage(token).error_code(), grpc::StatusCode::PERMISSION_DENIED);  // a hit
  EXPECT_EQ(Sum(expired).error_code(), grpc::StatusCode::UNAUTHENTICATED);       // a miss

  const PrometheusText after = Scrape();
  const std::map<std::string, double> expected = {
      {"missing_authorization", 3}, {"missing_role", 1}, {"expired", 1}};
  EXPECT_EQ(DenialDeltas(before, after), expected);
  EXPECT_EQ(Delta(before, after, "tollgate_token_cache_misses_total"), 2);
  EXPECT_EQ(Delta(before, after, "tollgate_token_cache_hits_total"), 3);
  // The keys were held all along: no fetch.
  EXPECT_EQ(Delta(before, after, "tollgate_jwks_fetch_total", {{"result", "ok"}}), 0);
}

// A token whose kid the held set lacks makes one fetch (the AuthService may
// have rotated); the kid is still unknown after it, so the call is refused,
// and counted once, as unknown_kid. The token is looked up in the cache at
// each of the call's three decisions: as gRPC creates the call's
// interceptors, when its metadata arrives, and after the fetch.
TEST_F(SumMetricsTest, CountsTheFetchForAnUnknownKidAndTheDenialOnce) {
  const PrometheusText before = Scrape();
  const steady_clock::time_point called = steady_clock::now();
  EXPECT_EQ(Sum(Mint(*unpublished_key_, {"user"}, clock_.NowUnixSeconds())).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const PrometheusText after = Scrape();
  EXPECT_EQ(Delta(before, after, "tollgate_jwks_fetch_total", {{"result", "ok"}}), 1);
  EXPECT_EQ(DenialDeltas(before, after), (std::map<std::string, double>{{"unknown_kid", 1}}));
  EXPECT_EQ(Delta(before, after, "tollgate_token_cache_misses_total"), 3);
  // The refetch confirmed the set: its age counts from then.
  EXPECT_LE(ServedValue(after, "tollgate_jwks_age_seconds"),
            std::chrono::duration<double>(steady_clock::now() - called).count());
}

// Counted by common/request_decoding for the process, shown at each scrape.
TEST_F(SumMetricsTest, CountsAnUndecodableRequest) {
  const std::string token = UserToken();
  const PrometheusText before = Scrape();
  EXPECT_EQ(RawSum(token, std::string("\xff\xff\xff", 3)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(RawSum(token, std::string("\x08\x28\x10\x02", 4)).ok());  // a=40, b=2
  EXPECT_EQ(Delta(before, Scrape(), "tollgate_undecodable_requests_total"), 1);
}

}  // namespace
}  // namespace tollgate::sum
