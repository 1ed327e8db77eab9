// The call pipeline (common/server) as the services run it: SumServer
// in-process, exactly as sum_service assembles it (access log, RPC metrics,
// the cap on calls in flight, then auth), with a real client on 127.0.0.1.
// Every call gives one access-log line with exact fields, its request id is
// echoed, grpc_server_* counters move by exact amounts, the cap refuses with
// RESOURCE_EXHAUSTED and recovers. A second fixture composes layers of its
// own around SumServiceImpl to pin the stated order and refusal semantics.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/auth/access_policy.h"
#include "common/keys/key_source.h"
#include "common/logging/logger.h"
#include "common/server/call_pipeline.h"
#include "common/token/access_token_issuer.h"
#include "common/token/jwk.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "sum_service/sum_config.h"
#include "sum_service/sum_server.h"
#include "tests/sum_service/local_sum_config.h"
#include "tests/support/fake_clock.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/test_keys.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::sum {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Delta;
using testing::FakeClock;
using testing::PrometheusText;

constexpr char kSecret[] = "call-pipeline-test-secret-0123456789abcdef";
constexpr char kSumMethod[] = "/tollgate.sum.v1.SumService/Sum";

// The access log's sink: a stream any thread may write while the test
// reads. Never destroyed: loggers are (by design) never freed.
class LockedLog final : public std::streambuf {
 public:
  std::string Contents() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    std::lock_guard<std::mutex> lock(mutex_);
    text_.append(data, static_cast<size_t>(size));
    return size;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      std::lock_guard<std::mutex> lock(mutex_);
      text_.push_back(static_cast<char>(c));
    }
    return c;
  }

 private:
  std::mutex mutex_;
  std::string text_;
};

LockedLog& Log() {
  static auto* log = new LockedLog();
  return *log;
}

// Installs a JSON logger at debug level writing to Log().
void CaptureLogs() {
  static auto* stream = new std::ostream(&Log());
  logging::SetDefaultLogger(std::make_unique<logging::Logger>(
      "sum", logging::Format::kJson, logging::Level::kDebug, stream));
}

// The access-log line of the call with `request_id`, waiting up to 3 s for it
// (the line is written when gRPC releases the call, after the client has
// its answer, and deferred up to 100 ms).
nlohmann::json CallLine(const std::string& request_id) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(3);
  while (std::chrono::steady_clock::now() < deadline) {
    logging::DefaultLogger().Flush();
    std::istringstream lines(Log().Contents());
    std::string line;
    nlohmann::json found;
    int matches = 0;
    while (std::getline(lines, line)) {
      nlohmann::json parsed = nlohmann::json::parse(line);
      if (parsed.value("msg", "") == "call" && parsed.value("request_id", "") == request_id) {
        found = parsed;
        ++matches;
      }
    }
    EXPECT_LE(matches, 1) << "more than one line for " << request_id;
    if (matches == 1) return found;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ADD_FAILURE() << "no access-log line with request_id " << request_id;
  return nlohmann::json::object();
}

std::vector<std::string> Keys(const nlohmann::json& line) {
  std::vector<std::string> keys;
  for (auto it = line.begin(); it != line.end(); ++it) keys.push_back(it.key());
  return keys;
}

// The labels of one SumService method's grpc_server_* series.
PrometheusText::Labels MethodLabels(const std::string& method, const std::string& type = "unary") {
  return {{"grpc_method", method},
          {"grpc_service", "tollgate.sum.v1.SumService"},
          {"grpc_type", type}};
}
// The labels of grpc_server_handled_total for calls ending with `code`.
PrometheusText::Labels Handled(const std::string& method, const std::string& code,
                               const std::string& type = "unary") {
  PrometheusText::Labels labels = MethodLabels(method, type);
  labels["grpc_code"] = code;
  return labels;
}

class CallPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CaptureLogs();
    auto config = LocalSumConfig({"--max-calls-in-flight=2"}, {{"JWT_SECRET_KEY", kSecret}});
    ASSERT_TRUE(config.ok()) << config.status();
    auto server = SumServer::Start(*config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
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

  IssuedAccessToken Mint(std::vector<std::string> roles, int64_t issued_at) {
    auto token = issuer_->Issue(TokenSubject{"user-7", "user-7@example.com", std::move(roles)},
                                issued_at);
    EXPECT_TRUE(token.ok()) << token.status();
    return *token;
  }

  struct Answer {
    grpc::Status status;
    std::string echoed_request_id;
  };

  Answer Sum(const std::string& token, const std::string& request_id, int64_t a = 1,
             int64_t b = 2) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    if (!request_id.empty()) context.AddMetadata("x-request-id", request_id);
    v1::SumRequest request;
    request.set_a(a);
    request.set_b(b);
    v1::SumResponse response;
    Answer answer{stub_->Sum(&context, request, &response), ""};
    auto echoed = context.GetServerInitialMetadata().find("x-request-id");
    if (echoed != context.GetServerInitialMetadata().end()) {
      answer.echoed_request_id.assign(echoed->second.data(), echoed->second.size());
    }
    return answer;
  }

  FakeClock clock_{1'800'000'000};
  tollgate::testing::CountingRandomSource random_;
  std::unique_ptr<AccessTokenIssuer> issuer_;
  std::unique_ptr<SumServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SumService::Stub> stub_;
};

TEST_F(CallPipelineTest, AdmittedCallLogsOneLineWithCallerAndEchoesTheRequestId) {
  const IssuedAccessToken token = Mint({"user"}, clock_.NowUnixSeconds());
  const Answer answer = Sum(token.token, "req-admitted-1");
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_message();
  EXPECT_EQ(answer.echoed_request_id, "req-admitted-1");

  const nlohmann::json line = CallLine("req-admitted-1");
  EXPECT_EQ(Keys(line), (std::vector<std::string>{"code", "duration_ms", "jti", "level", "method",
                                                  "msg", "peer", "request_id", "service", "sub",
                                                  "ts"}));
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["service"], "sum");
  EXPECT_EQ(line["method"], kSumMethod);
  EXPECT_EQ(line["code"], "OK");
  EXPECT_EQ(line["sub"], "user-7");
  EXPECT_EQ(line["jti"], token.token_id);
  EXPECT_EQ(line["peer"].get<std::string>().rfind("ipv4:127.0.0.1:", 0), 0u) << line["peer"];
  EXPECT_TRUE(line["duration_ms"].is_number());
  EXPECT_GE(line["duration_ms"].get<double>(), 0.0);
  EXPECT_LT(line["duration_ms"].get<double>(), 10'000.0);
  // RFC 3339 UTC with milliseconds.
  EXPECT_EQ(line["ts"].get<std::string>().size(), 24u) << line["ts"];
  EXPECT_EQ(line["ts"].get<std::string>().back(), 'Z');
  // Never the token.
  EXPECT_EQ(Log().Contents().find(token.token), std::string::npos);
}

TEST_F(CallPipelineTest, RefusedCallsLogTheirReasonAndNoCaller) {
  EXPECT_EQ(Sum("", "req-no-token").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const nlohmann::json missing = CallLine("req-no-token");
  EXPECT_EQ(missing["code"], "UNAUTHENTICATED");
  EXPECT_EQ(missing["reason"], "missing_authorization");
  EXPECT_FALSE(missing.contains("sub"));
  EXPECT_FALSE(missing.contains("jti"));

  const IssuedAccessToken expired = Mint({"user"}, clock_.NowUnixSeconds() - 3600);
  EXPECT_EQ(Sum(expired.token, "req-expired").status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CallLine("req-expired")["reason"], "expired");

  EXPECT_EQ(Sum("not.a.token", "req-garbage").status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CallLine("req-garbage")["reason"], "malformed");

  // GetUsage needs role admin.
  const IssuedAccessToken user = Mint({"user"}, clock_.NowUnixSeconds());
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + user.token);
  context.AddMetadata("x-request-id", "req-no-role");
  v1::GetUsageResponse usage;
  EXPECT_EQ(stub_->GetUsage(&context, v1::GetUsageRequest(), &usage).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const nlohmann::json no_role = CallLine("req-no-role");
  EXPECT_EQ(no_role["code"], "PERMISSION_DENIED");
  EXPECT_EQ(no_role["reason"], "missing_role");
  EXPECT_EQ(no_role["method"], "/tollgate.sum.v1.SumService/GetUsage");
}

TEST_F(CallPipelineTest, HandlerStatusesAreLoggedOnTheFastPath) {
  const IssuedAccessToken token = Mint({"user"}, clock_.NowUnixSeconds());
  EXPECT_EQ(Sum(token.token, "req-overflow", INT64_MAX, 1).status.error_code(),
            grpc::StatusCode::OUT_OF_RANGE);
  const nlohmann::json line = CallLine("req-overflow");
  EXPECT_EQ(line["code"], "OUT_OF_RANGE");
  EXPECT_EQ(line["sub"], "user-7");
  EXPECT_FALSE(line.contains("reason"));
}

TEST_F(CallPipelineTest, RequestIdsAreGeneratedWhenMissingOrUnfit) {
  const IssuedAccessToken token = Mint({"user"}, clock_.NowUnixSeconds());
  const Answer generated = Sum(token.token, "");
  ASSERT_TRUE(generated.status.ok());
  ASSERT_EQ(generated.echoed_request_id.size(), 15u);
  EXPECT_EQ(generated.echoed_request_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(CallLine(generated.echoed_request_id)["code"], "OK");

  const Answer unfit = Sum(token.token, std::string(129, 'a'));
  ASSERT_TRUE(unfit.status.ok());
  EXPECT_EQ(unfit.echoed_request_id.size(), 15u);
  EXPECT_NE(unfit.echoed_request_id, generated.echoed_request_id);

  const Answer longest = Sum(token.token, std::string(128, 'b'));
  EXPECT_EQ(longest.echoed_request_id, std::string(128, 'b'));
}

TEST_F(CallPipelineTest, HealthAndCancelledCallsAreLoggedWithTheirCodes) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext health_context;
  health_context.AddMetadata("x-request-id", "req-health");
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("tollgate.sum.v1.SumService");
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&health_context, request, &response).ok());
  const nlohmann::json line = CallLine("req-health");
  EXPECT_EQ(line["method"], "/grpc.health.v1.Health/Check");
  EXPECT_EQ(line["code"], "OK");

  // A client stream the client cancels: the handler never finishes it.
  const IssuedAccessToken token = Mint({"user"}, clock_.NowUnixSeconds());
  grpc::ClientContext stream_context;
  stream_context.AddMetadata("authorization", "Bearer " + token.token);
  stream_context.AddMetadata("x-request-id", "req-cancelled");
  v1::SumResponse sum;
  auto writer = stub_->SumStream(&stream_context, &sum);
  v1::SumStreamRequest value;
  value.set_value(5);
  ASSERT_TRUE(writer->Write(value));
  stream_context.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(CallLine("req-cancelled")["code"], "CANCELLED");
}

TEST_F(CallPipelineTest, MetricsCountEveryCallByCode) {
  const IssuedAccessToken token = Mint({"user"}, clock_.NowUnixSeconds());
  // Series exist at 0 before the first call (InitializeMethod).
  const PrometheusText before = testing::ScrapeMetricsOrFail(server_->http_port());
  ASSERT_TRUE(before.Value("grpc_server_handled_total", Handled("Sum", "OK")).has_value());
  ASSERT_TRUE(before.Value("grpc_server_handled_total", Handled("SumStream", "OK", "client_stream"))
                  .has_value());

  ASSERT_TRUE(Sum(token.token, "m1").status.ok());
  ASSERT_TRUE(Sum(token.token, "m2").status.ok());
  ASSERT_EQ(Sum("", "m3").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_EQ(Sum(token.token, "m4", INT64_MAX, 1).status.error_code(),
            grpc::StatusCode::OUT_OF_RANGE);
  for (const char* id : {"m1", "m2", "m3", "m4"}) CallLine(id);  // all ended

  const PrometheusText after = testing::ScrapeMetricsOrFail(server_->http_port());
  EXPECT_EQ(Delta(before, after, "grpc_server_handled_total", Handled("Sum", "OK")), 2);
  EXPECT_EQ(Delta(before, after, "grpc_server_handled_total", Handled("Sum", "Unauthenticated")),
            1);
  EXPECT_EQ(Delta(before, after, "grpc_server_handled_total", Handled("Sum", "OutOfRange")), 1);
  EXPECT_EQ(Delta(before, after, "grpc_server_started_total", MethodLabels("Sum")), 4);
  EXPECT_EQ(Delta(before, after, "grpc_server_handling_seconds_count", MethodLabels("Sum")), 4);
}

TEST_F(CallPipelineTest, CallsPastTheCapAreRefusedUntilOthersEnd) {
  const IssuedAccessToken token = Mint({"user"}, clock_.NowUnixSeconds());
  // Two client streams held open fill the cap of 2.
  struct OpenStream {
    grpc::ClientContext context;
    v1::SumResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::SumStreamRequest>> writer;
  };
  std::vector<std::unique_ptr<OpenStream>> streams;
  for (int i = 0; i < 2; ++i) {
    auto stream = std::make_unique<OpenStream>();
    stream->context.AddMetadata("authorization", "Bearer " + token.token);
    stream->writer = stub_->SumStream(&stream->context, &stream->response);
    v1::SumStreamRequest value;
    value.set_value(10 + i);
    ASSERT_TRUE(stream->writer->Write(value));
    streams.push_back(std::move(stream));
  }
  // The server starts the streams as their headers arrive: wait for it.
  grpc::Status refused;
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  int attempt = 0;
  std::string refused_id;
  while (std::chrono::steady_clock::now() < deadline) {
    refused_id = "req-capped-" + std::to_string(attempt++);
    refused = Sum(token.token, refused_id).status;
    if (!refused.ok()) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(), "server is at its limit of 2 calls in flight");
  const nlohmann::json line = CallLine(refused_id);
  EXPECT_EQ(line["code"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(line["reason"], "calls_in_flight_limit");

  for (auto& stream : streams) {
    stream->writer->WritesDone();
    ASSERT_TRUE(stream->writer->Finish().ok());
  }
  EXPECT_EQ(streams[0]->response.result(), 10);
  EXPECT_EQ(streams[1]->response.result(), 11);
  // Freed slots serve again (the streams' ends are released just after the
  // client sees them).
  grpc::Status after;
  const auto recover_by = std::chrono::steady_clock::now() + seconds(5);
  do {
    after = Sum(token.token, "").status;
  } while (!after.ok() && std::chrono::steady_clock::now() < recover_by);
  EXPECT_TRUE(after.ok()) << after.error_message();
}

// ---- Layer order, on a pipeline of the test's own layers ----

class RecordingLayer final : public CallLayer {
 public:
  RecordingLayer(std::string name, std::vector<std::string>* events, std::mutex* mutex,
                 bool refuses = false)
      : name_(std::move(name)), events_(events), mutex_(mutex), refuses_(refuses) {}

  std::optional<grpc::Status> OnCallStart(CallRecord& call) override {
    std::lock_guard<std::mutex> lock(*mutex_);
    events_->push_back("start " + name_);
    if (refuses_ && call.request_id == "refuse") {
      call.denial = "test_refusal";
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "refused by " + name_);
    }
    return std::nullopt;
  }
  void OnCallEnd(const CallRecord& call) override {
    std::lock_guard<std::mutex> lock(*mutex_);
    events_->push_back("end " + name_ + " " + std::to_string(call.code) + " " +
                       std::string(call.denial));
  }

 private:
  const std::string name_;
  std::vector<std::string>* const events_;
  std::mutex* const mutex_;
  const bool refuses_;
};

class LayerOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = Jwk::FromHmacSecret(kSecret);
    ASSERT_TRUE(key.ok());
    keys_ = std::make_unique<StaticKeySource>(*JwkSet::FromKeys({*key}));
    auto policy = AccessPolicy::FromServices({"tollgate.sum.v1.SumService"});
    ASSERT_TRUE(policy.ok());
    authenticator_ = std::make_unique<BearerAuthenticator>(
        *std::move(policy), AccessTokenVerifier(AccessTokenVerifierOptions{}), *keys_, clock_,
        BearerAuthenticator::Options{});
    outer_ = std::make_unique<RecordingLayer>("outer", &events_, &mutex_);
    middle_ = std::make_unique<RecordingLayer>("middle", &events_, &mutex_, /*refuses=*/true);
    inner_ = std::make_unique<RecordingLayer>("inner", &events_, &mutex_);
    service_ = std::make_unique<SumServiceImpl>();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    InstallCallPipeline(builder, CallPipelineOptions{authenticator_.get(),
                                                     {outer_.get(), middle_.get(), inner_.get()},
                                                     {"tollgate.sum.v1.SumService"}});
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::SumService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                        grpc::InsecureChannelCredentials()));
    issuer_ = std::make_unique<AccessTokenIssuer>(*key, AccessTokenOptions{}, random_);
  }
  void TearDown() override { server_->Shutdown(); }

  grpc::Status Sum(const std::string& request_id) {
    auto token = issuer_->Issue(TokenSubject{"u", "u@example.com", {"user"}},
                                clock_.NowUnixSeconds());
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token->token);
    context.AddMetadata("x-request-id", request_id);
    v1::SumRequest request;
    v1::SumResponse response;
    return stub_->Sum(&context, request, &response);
  }

  // The events once the call's end layers ran (they run after the client
  // has its answer).
  std::vector<std::string> EventsAfterCall(size_t expected) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (events_.size() >= expected) return events_;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

  FakeClock clock_{1'800'000'000};
  tollgate::testing::CountingRandomSource random_;
  std::unique_ptr<AccessTokenIssuer> issuer_;
  std::unique_ptr<KeySource> keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::mutex mutex_;
  std::vector<std::string> events_;
  std::unique_ptr<RecordingLayer> outer_, middle_, inner_;
  std::unique_ptr<SumServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::SumService::Stub> stub_;
};

TEST_F(LayerOrderTest, LayersStartInOrderAndEndInReverse) {
  ASSERT_TRUE(Sum("pass").ok());
  EXPECT_EQ(EventsAfterCall(6),
            (std::vector<std::string>{"start outer", "start middle", "start inner", "end inner 0 ",
                                      "end middle 0 ", "end outer 0 "}));
  EXPECT_EQ(service_->admitted_calls(), 1);
}

TEST_F(LayerOrderTest, ARefusingLayerStopsTheChainAndTheHandler) {
  const grpc::Status refused = Sum("refuse");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(refused.error_message(), "refused by middle");
  // The inner layer and auth never ran; the refusing layer gets no end; the
  // outer one sees the refusal.
  EXPECT_EQ(EventsAfterCall(3), (std::vector<std::string>{"start outer", "start middle",
                                                          "end outer 9 test_refusal"}));
  EXPECT_EQ(service_->admitted_calls(), 0);
}

}  // namespace
}  // namespace tollgate::sum
