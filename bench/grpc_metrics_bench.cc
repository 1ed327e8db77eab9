// The cost of GrpcMetrics::RecordCall on the hot path: a cached (method,
// code) after the first call, one thread and several threads on the same
// method.
#include <benchmark/benchmark.h>

#include "common/metrics/grpc_metrics.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace tollgate {
namespace {

prometheus::Registry& SharedRegistry() {
  static auto* registry = new prometheus::Registry();
  return *registry;
}

GrpcMetrics& SharedMetrics() {
  static auto* metrics = new GrpcMetrics(SharedRegistry());
  return *metrics;
}

void BM_RecordCall(benchmark::State& state) {
  GrpcMetrics& metrics = SharedMetrics();
  for (auto _ : state) {
    metrics.RecordCall("/tollgate.sum.v1.SumService/Sum", "unary", grpc::StatusCode::OK, 0.0012);
  }
}
BENCHMARK(BM_RecordCall)->Threads(1)->Threads(2)->Threads(4);

void BM_RecordCallOnKeptMethod(benchmark::State& state) {
  GrpcMetrics::Method& method =
      SharedMetrics().ForMethod("/tollgate.sum.v1.SumService/Sum", "unary");
  for (auto _ : state) method.RecordCall(grpc::StatusCode::OK, 0.0012);
}
BENCHMARK(BM_RecordCallOnKeptMethod);

// The floor: the same two prometheus updates on series held by the caller,
// no lookup.
void BM_BarePrometheusUpdates(benchmark::State& state) {
  auto& counter = prometheus::BuildCounter().Name("bare_total").Register(SharedRegistry()).Add({});
  auto& histogram = prometheus::BuildHistogram()
                        .Name("bare_seconds")
                        .Register(SharedRegistry())
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  for (auto _ : state) {
    counter.Increment();
    histogram.Observe(0.0012);
  }
}
BENCHMARK(BM_BarePrometheusUpdates);

void BM_RecordStartAndCall(benchmark::State& state) {
  GrpcMetrics& metrics = SharedMetrics();
  for (auto _ : state) {
    metrics.RecordStart("/tollgate.auth.v1.AuthService/Login", "unary");
    metrics.RecordCall("/tollgate.auth.v1.AuthService/Login", "unary",
                       grpc::StatusCode::UNAUTHENTICATED, 0.03);
  }
}
BENCHMARK(BM_RecordStartAndCall);

}  // namespace
}  // namespace tollgate
