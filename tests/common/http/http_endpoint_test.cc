#include "common/http/http_endpoint.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/metrics/grpc_metrics.h"
#include "prometheus/registry.h"

namespace tollgate {
namespace {

constexpr char kJwks[] = R"({"keys":[]})";
// printf '{"keys":[]}' | sha256sum
constexpr char kJwksEtag[] = "\"9638d11914735d0072002dd4d67c734a94ee7a0cd845e6dcbc984ee7581860a7\"";

class HttpEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = std::make_unique<HttpEndpoint>(HttpEndpointOptions{.address = "127.0.0.1:0"});
    endpoint_->ServeReadiness([this] { return ready_.load(); });
    endpoint_->ServeMetrics({grpc_metrics_, registry_});
    endpoint_->ServeJwks([] { return std::string(kJwks); }, std::chrono::seconds(300));
    ASSERT_TRUE(endpoint_->Start().ok());
    ASSERT_GT(endpoint_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", endpoint_->port());
  }

  std::atomic<bool> ready_{true};
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  // Listed before the registry, as the servers do: it folds its calls in.
  std::shared_ptr<GrpcMetrics> grpc_metrics_ = std::make_shared<GrpcMetrics>(*registry_);
  std::unique_ptr<HttpEndpoint> endpoint_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpEndpointTest, HealthzIsOk) {
  auto result = client_->Get("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "ok\n");
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(HttpEndpointTest, HeadHealthzHasNoBody) {
  auto result = client_->Head("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "");
}

TEST_F(HttpEndpointTest, ReadyzFollowsTheCallback) {
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ok\n");

  ready_ = false;
  auto not_ready = client_->Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "not serving\n");
}

TEST_F(HttpEndpointTest, MetricsShowsTheRegistry) {
  constexpr char kSum[] = "/tollgate.sum.v1.SumService/Sum";
  // Exact binary fractions, so the sum prints exactly.
  grpc_metrics_->RecordStart(kSum, "unary");
  grpc_metrics_->RecordCall(kSum, "unary", grpc::StatusCode::OK, 0.00390625);
  grpc_metrics_->RecordCall(kSum, "unary", grpc::StatusCode::OK, 0.015625);
  grpc_metrics_->RecordCall(kSum, "unary", grpc::StatusCode::OK, 0.75);
  grpc_metrics_->RecordCall(kSum, "unary", grpc::StatusCode::UNAUTHENTICATED, 0.00390625);

  auto result = client_->Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& body = result->body;
  const std::string labels =
      R"(grpc_method="Sum",grpc_service="tollgate.sum.v1.SumService",grpc_type="unary")";
  for (const std::string& line : std::vector<std::string>{
           "# HELP grpc_server_handled_total Total number of RPCs completed on the server, "
           "regardless of success or failure.\n",
           "# TYPE grpc_server_handled_total counter\n",
           "grpc_server_handled_total{grpc_code=\"OK\"," + labels + "} 3\n",
           "grpc_server_handled_total{grpc_code=\"Unauthenticated\"," + labels + "} 1\n",
           "grpc_server_started_total{" + labels + "} 1\n",
           "# TYPE grpc_server_handling_seconds histogram\n",
           "grpc_server_handling_seconds_count{" + labels + "} 4\n",
           "grpc_server_handling_seconds_sum{" + labels + "} 0.7734375\n",
           "grpc_server_handling_seconds_bucket{" + labels + ",le=\"0.005\"} 2\n",
           "grpc_server_handling_seconds_bucket{" + labels + ",le=\"0.01\"} 2\n",
           "grpc_server_handling_seconds_bucket{" + labels + ",le=\"0.025\"} 3\n",
           "grpc_server_handling_seconds_bucket{" + labels + ",le=\"0.5\"} 3\n",
           "grpc_server_handling_seconds_bucket{" + labels + ",le=\"1\"} 4\n",
           "grpc_server_handling_seconds_bucket{" + labels + ",le=\"10\"} 4\n",
           "grpc_server_handling_seconds_bucket{" + labels + ",le=\"+Inf\"} 4\n",
       }) {
    EXPECT_NE(body.find(line), std::string::npos) << "missing: " << line << "in:\n" << body;
  }
}

TEST_F(HttpEndpointTest, JwksHasCachingHeaders) {
  auto result = client_->Get("/.well-known/jwks.json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, kJwks);
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/jwk-set+json");
  EXPECT_EQ(result->get_header_value("Cache-Control"), "public, max-age=300");
  EXPECT_EQ(result->get_header_value("ETag"), kJwksEtag);
}

TEST_F(HttpEndpointTest, JwksAnswers304ToAMatchingIfNoneMatch) {
  for (const std::string& if_none_match :
       std::vector<std::string>{std::string(kJwksEtag), "\"other\", " + std::string(kJwksEtag), "W/" + std::string(kJwksEtag),
        std::string("*")}) {
    auto result = client_->Get("/.well-known/jwks.json", {{"If-None-Match", if_none_match}});
    ASSERT_TRUE(result) << if_none_match;
    EXPECT_EQ(result->status, 304) << if_none_match;
    EXPECT_EQ(result->body, "") << if_none_match;
    EXPECT_EQ(result->get_header_value("ETag"), kJwksEtag);
    EXPECT_EQ(result->get_header_value("Cache-Control"), "public, max-age=300");
  }
  auto stale = client_->Get("/.well-known/jwks.json", {{"If-None-Match", "\"other\""}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 200);
  EXPECT_EQ(stale->body, kJwks);
}

TEST_F(HttpEndpointTest, UnknownPathIs404) {
  for (const char* path : {"/", "/healthz/", "/metricsx", "/.well-known/jwks", "/nope"}) {
    auto result = client_->Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 404) << path;
    EXPECT_EQ(result->body, "not found\n") << path;
  }
  auto post = client_->Post("/nope", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

TEST_F(HttpEndpointTest, OtherMethodsAre405) {
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"}) {
    auto post = client_->Post(path, "x", "text/plain");
    ASSERT_TRUE(post) << path;
    EXPECT_EQ(post->status, 405) << path;
    EXPECT_EQ(post->body, "method not allowed\n") << path;
    EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD") << path;
  }
  auto put = client_->Put("/healthz", "", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  auto del = client_->Delete("/metrics");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
}

TEST_F(HttpEndpointTest, OversizedBodyIs413) {
  auto result = client_->Post("/healthz", std::string(1025, 'x'), "text/plain");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 413);
  EXPECT_EQ(result->body, "request body too large\n");
  EXPECT_FALSE(result->has_header("Allow"));
  auto within = client_->Post("/healthz", std::string(1024, 'x'), "text/plain");
  ASSERT_TRUE(within);
  EXPECT_EQ(within->status, 405);
}

// A 404/405 answer carries its Content-Length and the request's body is read
// off the connection, so a keep-alive client goes on (a missing
// Content-Length had each such answer wait out the keep-alive timeout).
TEST_F(HttpEndpointTest, KeepAliveConnectionServesSeveralRequests) {
  client_->set_keep_alive(true);
  client_->set_read_timeout(std::chrono::seconds(1));
  for (int i = 0; i < 3; ++i) {
    auto post = client_->Post("/healthz", "some body", "text/plain");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 405);
    EXPECT_EQ(post->body, "method not allowed\n");
    auto missing = client_->Get("/missing");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(missing->body, "not found\n");
    auto get = client_->Get("/healthz");
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 200);
  }
}

TEST_F(HttpEndpointTest, SecondEndpointOnTheSamePortIsUnavailable) {
  const std::string address = "127.0.0.1:" + std::to_string(endpoint_->port());
  HttpEndpoint second(HttpEndpointOptions{.address = address});
  const absl::Status status = second.Start();
  EXPECT_EQ(status, absl::UnavailableError("cannot listen on " + address + ": address in use"));
  EXPECT_EQ(second.port(), 0);
}

TEST_F(HttpEndpointTest, StopIsIdempotentAndEndsServing) {
  endpoint_->Stop();
  endpoint_->Stop();
  auto result = client_->Get("/healthz");
  EXPECT_FALSE(result);
  EXPECT_EQ(endpoint_->Start(), absl::FailedPreconditionError("HTTP endpoint already started"));
}

TEST(HttpEndpoint, UnregisteredRoutesAre404) {
  HttpEndpoint endpoint(HttpEndpointOptions{.address = "127.0.0.1:0"});
  ASSERT_TRUE(endpoint.Start().ok());
  httplib::Client client("127.0.0.1", endpoint.port());
  for (const char* path : {"/readyz", "/metrics", "/.well-known/jwks.json"}) {
    auto result = client.Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 404) << path;
  }
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(HttpEndpoint, ThrowingCallbackIs500WithoutTheMessage) {
  HttpEndpoint endpoint(HttpEndpointOptions{.address = "127.0.0.1:0"});
  endpoint.ServeReadiness([]() -> bool { throw std::runtime_error("secret detail"); });
  ASSERT_TRUE(endpoint.Start().ok());
  httplib::Client client("127.0.0.1", endpoint.port());
  auto result = client.Get("/readyz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 500);
  EXPECT_EQ(result->body, "internal error\n");
  for (const auto& [name, value] : result->headers) {
    EXPECT_EQ(value.find("secret"), std::string::npos) << name;
  }
}

TEST(HttpEndpoint, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    HttpEndpoint endpoint(HttpEndpointOptions{.address = "127.0.0.1:0"});
    ASSERT_TRUE(endpoint.Start().ok());
    endpoint.Stop();
  }
}

TEST(HttpEndpoint, DestructorStopsANeverStartedEndpoint) {
  HttpEndpoint endpoint(HttpEndpointOptions{.address = "127.0.0.1:0"});
  EXPECT_EQ(endpoint.port(), 0);
}

TEST(HttpEndpoint, BadAddressesAreInvalidArgument) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"127.0.0.1", "missing port"},
      {"127.0.0.1:", "bad port"},
      {"127.0.0.1:65536", "bad port"},
      {"127.0.0.1:80a", "bad port"},
      {"127.0.0.1:-1", "bad port"},
      {":8080", "missing host"},
      {"::1:8080", "an IPv6 host goes in brackets"},
      {"[::1]8080", "missing port"},
      {"[::1:8080", "unclosed '['"},
      {"[]:8080", "missing host"},
  };
  for (const auto& [address, why] : cases) {
    HttpEndpoint endpoint(HttpEndpointOptions{.address = address});
    EXPECT_EQ(endpoint.Start(),
              absl::InvalidArgumentError(std::string("invalid HTTP listen address '") + address +
                                         "': " + why));
  }
}

TEST(HttpEndpoint, UnresolvableHostIsUnavailable) {
  HttpEndpoint endpoint(HttpEndpointOptions{.address = "no-such-host.invalid:0"});
  const absl::Status status = endpoint.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), "cannot listen on no-such-host.invalid:0: "))
      << status;
}

TEST(ParseHostPort, SplitsHostAndPort) {
  HostPort parsed;
  ASSERT_TRUE(ParseHostPort("[::1]:9090", &parsed).ok());
  EXPECT_EQ(parsed.host, "::1");
  EXPECT_EQ(parsed.port, 9090);
  ASSERT_TRUE(ParseHostPort("localhost:0", &parsed).ok());
  EXPECT_EQ(parsed.host, "localhost");
  EXPECT_EQ(parsed.port, 0);
  ASSERT_TRUE(ParseHostPort("0.0.0.0:65535", &parsed).ok());
  EXPECT_EQ(parsed.host, "0.0.0.0");
  EXPECT_EQ(parsed.port, 65535);
}

TEST(IfNoneMatchMatches, WeakComparisonOverAList) {
  EXPECT_TRUE(IfNoneMatchMatches("\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"b\" , W/\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"b\"", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("a", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"a\""));
}

TEST(StrongEtag, IsTheQuotedHexSha256) {
  EXPECT_EQ(StrongEtag(kJwks), kJwksEtag);
  EXPECT_EQ(StrongEtag(""),
            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"");
}

}  // namespace
}  // namespace tollgate
