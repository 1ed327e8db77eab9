#include "common/metrics/grpc_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace tollgate {
namespace {

// As /metrics does: GrpcMetrics folds what it recorded into the registry,
// then the registry is read.
std::string Scrape(const GrpcMetrics& metrics, const prometheus::Registry& registry) {
  EXPECT_TRUE(metrics.Collect().empty());
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(GrpcCodeName, GoNames) {
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::CANCELLED), "Canceled");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNKNOWN), "Unknown");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::INVALID_ARGUMENT), "InvalidArgument");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::DEADLINE_EXCEEDED), "DeadlineExceeded");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::NOT_FOUND), "NotFound");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::ALREADY_EXISTS), "AlreadyExists");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::PERMISSION_DENIED), "PermissionDenied");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::RESOURCE_EXHAUSTED), "ResourceExhausted");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::FAILED_PRECONDITION), "FailedPrecondition");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::ABORTED), "Aborted");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::OUT_OF_RANGE), "OutOfRange");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNIMPLEMENTED), "Unimplemented");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::INTERNAL), "Internal");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAVAILABLE), "Unavailable");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::DATA_LOSS), "DataLoss");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "Unauthenticated");
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(42)), "Code(42)");
}

TEST(GrpcMetrics, CountsPerMethodTypeAndCode) {
  prometheus::Registry registry;
  GrpcMetrics metrics(registry);
  metrics.RecordStart("/tollgate.auth.v1.AuthService/Login", "unary");
  metrics.RecordStart("/tollgate.auth.v1.AuthService/Login", "unary");
  metrics.RecordCall("/tollgate.auth.v1.AuthService/Login", "unary",
                     grpc::StatusCode::UNAUTHENTICATED, 0.5);
  metrics.RecordCall("/tollgate.auth.v1.AuthService/Login", "unary",
                     grpc::StatusCode::PERMISSION_DENIED, 0.25);
  metrics.RecordCall("/tollgate.sum.v1.SumService/SumStream", "client_stream",
                     grpc::StatusCode::OK, 20);
  metrics.RecordCall("/tollgate.sum.v1.SumService/SumStream", "client_stream",
                     static_cast<grpc::StatusCode>(99), 1);
  metrics.RecordCall("NoSlashes", "unary", grpc::StatusCode::OK, 0);

  const std::string text = Scrape(metrics, registry);
  const std::string login =
      R"(grpc_method="Login",grpc_service="tollgate.auth.v1.AuthService",grpc_type="unary")";
  const std::string stream =
      R"(grpc_method="SumStream",grpc_service="tollgate.sum.v1.SumService",grpc_type="client_stream")";
  for (const std::string& line : std::vector<std::string>{
           "grpc_server_started_total{" + login + "} 2",
           "grpc_server_handled_total{grpc_code=\"Unauthenticated\"," + login + "} 1",
           "grpc_server_handled_total{grpc_code=\"PermissionDenied\"," + login + "} 1",
           "grpc_server_handling_seconds_count{" + login + "} 2",
           "grpc_server_handling_seconds_sum{" + login + "} 0.75",
           "grpc_server_handling_seconds_bucket{" + login + ",le=\"0.1\"} 0",
           "grpc_server_handling_seconds_bucket{" + login + ",le=\"0.25\"} 1",
           "grpc_server_handling_seconds_bucket{" + login + ",le=\"0.5\"} 2",
           "grpc_server_handled_total{grpc_code=\"OK\"," + stream + "} 1",
           "grpc_server_handled_total{grpc_code=\"Code(99)\"," + stream + "} 1",
           "grpc_server_handling_seconds_bucket{" + stream + ",le=\"10\"} 1",
           "grpc_server_handling_seconds_bucket{" + stream + ",le=\"+Inf\"} 2",
           "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"unknown\","
           "grpc_service=\"unknown\",grpc_type=\"unary\"} 1",
       }) {
    EXPECT_TRUE(Contains(text, line)) << "missing: " << line << "\nin:\n" << text;
  }
  // No started call was recorded for SumStream, yet the series exists at 0
  // (created with the method's other series).
  EXPECT_TRUE(Contains(text, "grpc_server_started_total{" + stream + "} 0")) << text;
}

TEST(GrpcMetrics, KeptMethodUpdatesTheSameSeries) {
  prometheus::Registry registry;
  GrpcMetrics metrics(registry);
  GrpcMetrics::Method& sum = metrics.ForMethod("/tollgate.sum.v1.SumService/Sum", "unary");
  EXPECT_EQ(&sum, &metrics.ForMethod("/tollgate.sum.v1.SumService/Sum", "unary"));
  EXPECT_NE(&sum, &metrics.ForMethod("/tollgate.sum.v1.SumService/Sum", "server_stream"));
  sum.RecordStart();
  sum.RecordCall(grpc::StatusCode::OK, 0.5);
  metrics.RecordCall("/tollgate.sum.v1.SumService/Sum", "unary", grpc::StatusCode::OK, 0.25);
  const std::string text = Scrape(metrics, registry);
  const std::string labels =
      R"(grpc_method="Sum",grpc_service="tollgate.sum.v1.SumService",grpc_type="unary")";
  EXPECT_TRUE(Contains(text, "grpc_server_started_total{" + labels + "} 1")) << text;
  EXPECT_TRUE(Contains(text, "grpc_server_handled_total{grpc_code=\"OK\"," + labels + "} 2"))
      << text;
  EXPECT_TRUE(Contains(text, "grpc_server_handling_seconds_sum{" + labels + "} 0.75")) << text;
}

TEST(GrpcMetrics, BucketsAreGoGrpcPrometheusDefaults) {
  prometheus::Registry registry;
  GrpcMetrics metrics(registry);
  metrics.RecordCall("/s.S/M", "unary", grpc::StatusCode::OK, 0.001);
  const std::string text = Scrape(metrics, registry);
  const std::string labels = R"(grpc_method="M",grpc_service="s.S",grpc_type="unary")";
  std::string buckets;
  for (const char* le :
       {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}) {
    buckets += "grpc_server_handling_seconds_bucket{" + labels + ",le=\"" + le + "\"} 1\n";
  }
  EXPECT_NE(text.find(buckets), std::string::npos) << text;
}

TEST(GrpcMetrics, InitializeMethodCreatesEveryCodeAtZero) {
  prometheus::Registry registry;
  GrpcMetrics metrics(registry);
  metrics.InitializeMethod("/s.S/M", "server_stream");
  const std::string text = Scrape(metrics, registry);
  const std::string labels = R"(grpc_method="M",grpc_service="s.S",grpc_type="server_stream")";
  for (const char* code : {"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
                           "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
                           "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
                           "Internal", "Unavailable", "DataLoss", "Unauthenticated"}) {
    const std::string line = std::string("grpc_server_handled_total{grpc_code=\"") + code +
                             "\"," + labels + "} 0";
    EXPECT_TRUE(Contains(text, line)) << line;
  }
  EXPECT_TRUE(Contains(text, "grpc_server_started_total{" + labels + "} 0"));
  EXPECT_TRUE(Contains(text, "grpc_server_handling_seconds_count{" + labels + "} 0"));
}

TEST(GrpcMetrics, ConcurrentCallsAllCount) {
  prometheus::Registry registry;
  GrpcMetrics metrics(registry);
  constexpr int kThreads = 4;
  constexpr int kCalls = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string method = "/s.S/M" + std::to_string(i % 3);
        metrics.RecordCall(method, "unary", static_cast<grpc::StatusCode>((t + i) % 2), 0.001);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::string text = Scrape(metrics, registry);
  // M0 gets i = 0, 3, ..., 9999: 3334 calls per thread, 13336 in all, half
  // of them OK (code 0) and half CANCELLED (code 1), since t + i alternates.
  EXPECT_TRUE(Contains(text, R"(grpc_server_handling_seconds_count{grpc_method="M0",grpc_service="s.S",grpc_type="unary"} 13336)"))
      << text;
  EXPECT_TRUE(Contains(text, R"(grpc_server_handled_total{grpc_code="OK",grpc_method="M0",grpc_service="s.S",grpc_type="unary"} 6668)"))
      << text;
  EXPECT_TRUE(Contains(text, R"(grpc_server_handled_total{grpc_code="Canceled",grpc_method="M0",grpc_service="s.S",grpc_type="unary"} 6668)"))
      << text;
}

// Calls are recorded in per-thread shards and folded into the registry at
// each scrape: scrapes taken while threads record lose and double nothing.
TEST(GrpcMetrics, ScrapesWhileCallsGoOnLoseAndDoubleNothing) {
  prometheus::Registry registry;
  GrpcMetrics metrics(registry);
  constexpr int kThreads = 4;
  constexpr int kCalls = 20000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) Scrape(metrics, registry);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics] {
      GrpcMetrics::Method& method = metrics.ForMethod("/s.S/M", "unary");
      for (int i = 0; i < kCalls; ++i) {
        method.RecordStart();
        method.RecordCall(grpc::StatusCode::OK, 0.00390625);  // 2^-8 s: sums stay exact
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done = true;
  scraper.join();
  const std::string text = Scrape(metrics, registry);
  const std::string labels = R"(grpc_method="M",grpc_service="s.S",grpc_type="unary")";
  EXPECT_TRUE(Contains(text, "grpc_server_started_total{" + labels + "} 80000")) << text;
  EXPECT_TRUE(Contains(text, "grpc_server_handled_total{grpc_code=\"OK\"," + labels + "} 80000"))
      << text;
  EXPECT_TRUE(Contains(text, "grpc_server_handling_seconds_bucket{" + labels + ",le=\"0.005\"} 80000"))
      << text;
  EXPECT_TRUE(Contains(text, "grpc_server_handling_seconds_sum{" + labels + "} 312.5")) << text;
}

}  // namespace
}  // namespace tollgate
