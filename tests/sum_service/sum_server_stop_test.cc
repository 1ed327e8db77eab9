// SumServer in-process (HS256, the call pipeline, health, the HTTP port)
// on 127.0.0.1:0: the connection limits of its configuration reach the
// wire, and Shutdown stops it gracefully: health NOT_SERVING (Watch told at
// once, /readyz 503), new calls UNAVAILABLE at once, a stream in flight
// drained to its OK end, a stream longer than the grace cancelled.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <future>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/token/access_token_issuer.h"
#include "common/token/jwk.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_server.h"
#include "tests/sum_service/local_sum_config.h"
#include "tests/support/fake_clock.h"
#include "tests/support/raw_http2_connection.h"
#include "tests/support/stop_status.h"
#include "tests/support/test_keys.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::sum {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::EndedByTheStop;
using testing::RawHttp2Connection;

constexpr char kSecret[] = "sum-server-stop-test-secret-0123456789abcdef";
constexpr milliseconds kPatience{5000};

class SumServerStopTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    auto config = LocalSumConfig(std::move(flags), {{"JWT_SECRET_KEY", kSecret}});
    ASSERT_TRUE(config.ok()) << config.status();
    auto server = SumServer::Start(*config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::SumService::NewStub(NewChannel());

    auto key = Jwk::FromHmacSecret(kSecret);
    ASSERT_TRUE(key.ok()) << key.status();
    AccessTokenIssuer issuer(*key, AccessTokenOptions{}, random_);
    auto token = issuer.Issue(TokenSubject{"user-1", "user-1@example.com", {"user"}},
                              clock_.NowUnixSeconds());
    ASSERT_TRUE(token.ok()) << token.status();
    bearer_ = "Bearer " + token->token;
  }

  void TearDown() override {
    if (server_) server_->Shutdown(milliseconds(0));
  }

  std::shared_ptr<grpc::Channel> NewChannel() {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                               grpc::InsecureChannelCredentials());
  }

  // The stop must find the stream running: wait until its handler has begun
  // (a Write returns once the message is queued, before the server has the
  // call; a stop that comes first cancels the call with CANCELLED instead).
  void WaitUntilTheServerHasTheCall() {
    const auto started_by = std::chrono::steady_clock::now() + kPatience;
    while (server_->service().admitted_calls() < 1 &&
           std::chrono::steady_clock::now() < started_by) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_EQ(server_->service().admitted_calls(), 1);
  }

  // Shutdown(grace) on another thread.
  std::future<void> ShutdownInBackground(milliseconds grace) {
    return std::async(std::launch::async, [this, grace] { server_->Shutdown(grace); });
  }

  // A Watch of `service` hears SERVING, then NOT_SERVING as soon as a stop
  // with a 500 ms grace begins (a grace, so that the Watch is cancelled
  // only after it heard the news); gRPC's health service does not end the
  // stream, so the grace's end cancels it, with UNAVAILABLE.
  void WatchThroughTheStop(const std::string& service) {
    auto health = grpc::health::v1::Health::NewStub(NewChannel());
    grpc::ClientContext context;
    HealthCheckRequest request;
    request.set_service(service);
    auto watch = health->Watch(&context, request);
    HealthCheckResponse seen;
    ASSERT_TRUE(watch->Read(&seen));
    EXPECT_EQ(seen.status(), HealthCheckResponse::SERVING);

    std::future<void> stopped = ShutdownInBackground(milliseconds(500));
    ASSERT_TRUE(watch->Read(&seen));
    EXPECT_EQ(seen.status(), HealthCheckResponse::NOT_SERVING);
    EXPECT_FALSE(watch->Read(&seen));
    EXPECT_TRUE(EndedByTheStop(watch->Finish()));
    EXPECT_EQ(stopped.wait_for(kPatience), std::future_status::ready);
  }

  testing::FakeClock clock_;
  testing::CountingRandomSource random_;
  std::unique_ptr<SumServer> server_;
  std::unique_ptr<v1::SumService::Stub> stub_;
  std::string bearer_;
};

// The settings travel from the configuration to the wire: the stream cap is
// in the server's SETTINGS, and an idle connection is closed.
TEST_F(SumServerStopTest, AppliesTheConfiguredConnectionLimits) {
  Start({"--max-concurrent-streams=7", "--max-connection-idle=1"});
  auto connection = RawHttp2Connection::Connect(server_->port());
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)->SendPrefaceAndSettings().ok());
  auto settings = (*connection)->ReadUntil(RawHttp2Connection::kSettings, kPatience);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->SettingsValues()[RawHttp2Connection::kSettingsMaxConcurrentStreams], 7u);
  auto goaway = (*connection)->ReadUntil(RawHttp2Connection::kGoAway, kPatience);
  ASSERT_TRUE(goaway.ok()) << goaway.status();
  EXPECT_EQ(goaway->GoAwayDebugData(), "enter idle");
  EXPECT_TRUE((*connection)->WaitForClose(kPatience).ok());
}

// While a stream is in flight: /readyz says 503 at once, a new call fails
// at once with UNAVAILABLE, and the stream goes on to its OK end, which is
// what ends the stop.
TEST_F(SumServerStopTest, ShutdownDrainsAStreamInFlightWhileNewCallsFailFast) {
  Start();
  // A stream in flight: one value sent, more to come.
  grpc::ClientContext stream_context;
  stream_context.AddMetadata("authorization", bearer_);
  v1::SumResponse stream_response;
  auto stream = stub_->SumStream(&stream_context, &stream_response);
  v1::SumStreamRequest value;
  value.set_value(40);
  ASSERT_TRUE(stream->Write(value));
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheServerHasTheCall());

  std::future<void> stopped = ShutdownInBackground(seconds(10));

  // Shutdown runs on another thread: /readyz turns 503 as soon as it has
  // begun (within a second here), long before the stream ends.
  httplib::Client http("127.0.0.1", server_->http_port());
  http.set_read_timeout(5, 0);
  int readyz_status = 0;
  const auto not_ready_by = std::chrono::steady_clock::now() + seconds(1);
  do {
    auto readyz = http.Get("/readyz");
    ASSERT_TRUE(readyz);
    readyz_status = readyz->status;
  } while (readyz_status != 503 && std::chrono::steady_clock::now() < not_ready_by);
  EXPECT_EQ(readyz_status, 503);

  // A new call (a new connection) is refused at once, once the listener is
  // closed. (A connection that gRPC accepted just before it closed gets its
  // call CANCELLED instead: see "Stopping" in the README.)
  const auto closed_by = std::chrono::steady_clock::now() + seconds(1);
  while (RawHttp2Connection::Connect(server_->port()).ok() &&
         std::chrono::steady_clock::now() < closed_by) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_FALSE(RawHttp2Connection::Connect(server_->port()).ok()) << "the port is still open";
  // Its own subchannel pool: a channel to the same target would otherwise
  // share the stream's connection, and a call sent on it before its GOAWAY
  // arrives is CANCELLED rather than refused.
  grpc::ChannelArguments own_connection;
  own_connection.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto late_stub = v1::SumService::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(),
      own_connection));
  grpc::ClientContext late_context;
  late_context.set_deadline(std::chrono::system_clock::now() + kPatience);
  late_context.AddMetadata("authorization", bearer_);
  v1::SumRequest late_request;
  v1::SumResponse late_response;
  const grpc::Status late = late_stub->Sum(&late_context, late_request, &late_response);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::UNAVAILABLE) << late.error_message();

  // The stream in flight goes on and ends OK; only then is the stop done.
  EXPECT_EQ(stopped.wait_for(milliseconds(200)), std::future_status::timeout);
  value.set_value(2);
  ASSERT_TRUE(stream->Write(value));
  ASSERT_TRUE(stream->WritesDone());
  const grpc::Status drained = stream->Finish();
  EXPECT_TRUE(drained.ok()) << drained.error_code() << " " << drained.error_message();
  EXPECT_EQ(stream_response.result(), 42);
  EXPECT_EQ(stopped.wait_for(kPatience), std::future_status::ready);
}

// A health Watch stream (gRPC client-side health checking holds one) hears
// NOT_SERVING for its service name at once. It is a call in flight like any
// other, though: it holds the drain until the grace ends and is then
// cancelled like the rest.
TEST_F(SumServerStopTest, AWatchIsToldNotServingAtOnceAndEndsWithTheGrace) {
  Start();
  WatchThroughTheStop("tollgate.sum.v1.SumService");
}

// "liveness" (the Kubernetes liveness probe's name) is SERVING until the
// stop begins, and goes NOT_SERVING with the rest then.
TEST_F(SumServerStopTest, LivenessIsServingUntilTheStopBegins) {
  Start();
  WatchThroughTheStop("liveness");
}

// What is still in flight when the grace ends is cancelled; its client
// sees UNAVAILABLE (gRPC's own message), so it may retry elsewhere.
TEST_F(SumServerStopTest, ShutdownCancelsAStreamLongerThanTheGrace) {
  Start();
  grpc::ClientContext context;
  context.AddMetadata("authorization", bearer_);
  v1::SumResponse response;
  auto stream = stub_->SumStream(&context, &response);
  v1::SumStreamRequest value;
  value.set_value(1);
  ASSERT_TRUE(stream->Write(value));
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheServerHasTheCall());

  const auto stop_began = std::chrono::steady_clock::now();
  std::future<void> stopped = ShutdownInBackground(milliseconds(300));
  EXPECT_EQ(stopped.wait_for(kPatience), std::future_status::ready);
  // The stream had its grace: the stop ended it no sooner.
  EXPECT_GE(std::chrono::steady_clock::now() - stop_began, milliseconds(300));
  // Writes fail once the client has heard of the cancellation; one made
  // just before it has is still queued and accepted, so keep writing until
  // one fails (bounded).
  const auto refused_by = std::chrono::steady_clock::now() + kPatience;
  bool written = true;
  while (written && std::chrono::steady_clock::now() < refused_by) {
    written = stream->Write(value);
    if (written) std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_FALSE(written);
  EXPECT_TRUE(EndedByTheStop(stream->Finish()));
}

}  // namespace
}  // namespace tollgate::sum
