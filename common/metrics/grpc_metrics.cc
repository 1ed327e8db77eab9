#include "common/metrics/grpc_metrics.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/metrics/sharded_counter.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace tollgate {
namespace {

// go-grpc-prometheus's DefBuckets (prometheus.DefBuckets).
const prometheus::Histogram::BucketBoundaries& HandlingBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

// go-grpc-prometheus's splitMethodName.
std::pair<std::string, std::string> SplitMethodName(std::string_view full_method) {
  if (!full_method.empty() && full_method[0] == '/') full_method.remove_prefix(1);
  const size_t slash = full_method.find('/');
  if (slash == std::string_view::npos) return {"unknown", "unknown"};
  return {std::string(full_method.substr(0, slash)), std::string(full_method.substr(slash + 1))};
}

}  // namespace

std::string GrpcCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",          "Canceled",          "Unknown",          "InvalidArgument",
      "DeadlineExceeded", "NotFound",     "AlreadyExists",    "PermissionDenied",
      "ResourceExhausted", "FailedPrecondition", "Aborted",   "OutOfRange",
      "Unimplemented", "Internal",        "Unavailable",      "DataLoss",
      "Unauthenticated"};
  const int value = static_cast<int>(code);
  if (value >= 0 && value < static_cast<int>(std::size(kNames))) return kNames[value];
  return absl::StrCat("Code(", value, ")");
}

GrpcMetrics::GrpcMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of success "
                         "or failure.")
                   .Register(registry)),
      handling_(prometheus::BuildHistogram()
                    .Name("grpc_server_handling_seconds")
                    .Help("Histogram of response latency (seconds) of gRPC that had been "
                          "application-level handled by the server.")
                    .Register(registry)) {}

GrpcMetrics::~GrpcMetrics() = default;

GrpcMetrics::Method& GrpcMetrics::ForMethod(std::string_view full_method,
                                            std::string_view type) {
  {
    absl::ReaderMutexLock lock(&mutex_);
    if (auto it = series_.find(absl::string_view(full_method.data(), full_method.size()));
        it != series_.end()) {
      for (const auto& series : it->second) {
        if (series->type_ == type) return *series;
      }
    }
  }
  absl::MutexLock lock(&mutex_);
  auto& list = series_[std::string(full_method)];
  for (const auto& series : list) {
    if (series->type_ == type) return *series;  // another thread was first
  }
  auto series = std::make_unique<Method>();
  series->handled_family_ = &handled_;
  series->type_ = std::string(type);
  std::tie(series->service_, series->method_) = SplitMethodName(full_method);
  const prometheus::Labels labels = {{"grpc_service", series->service_},
                                     {"grpc_method", series->method_},
                                     {"grpc_type", series->type_}};
  series->started_ = &started_.Add(labels);
  series->handling_ = &handling_.Add(labels, HandlingBuckets());
  list.push_back(std::move(series));
  return *list.back();
}

prometheus::Counter& GrpcMetrics::Method::Handled(grpc::StatusCode code) {
  const int index = static_cast<int>(code);
  prometheus::Counter* counter =
      index >= 0 && index < kCodes ? handled_[index].load(std::memory_order_acquire) : nullptr;
  if (counter != nullptr) return *counter;
  const prometheus::Labels labels = {{"grpc_service", service_},
                                     {"grpc_method", method_},
                                     {"grpc_type", type_},
                                     {"grpc_code", GrpcCodeName(code)}};
  // Family::Add returns the existing series for equal labels, so a race
  // between two first calls stores the same pointer twice. A code outside
  // the enum is not cached (it never comes from gRPC itself).
  counter = &handled_family_->Add(labels);
  if (index >= 0 && index < kCodes) handled_[index].store(counter, std::memory_order_release);
  return *counter;
}

namespace {

// HandlingBuckets() in nanoseconds, for the bucket search on the hot path.
const std::array<uint64_t, 11>& HandlingBucketNanoseconds() {
  static const std::array<uint64_t, 11> bounds = [] {
    std::array<uint64_t, 11> nanoseconds{};
    for (size_t i = 0; i < nanoseconds.size(); ++i) {
      nanoseconds[i] = static_cast<uint64_t>(std::llround(HandlingBuckets()[i] * 1e9));
    }
    return nanoseconds;
  }();
  return bounds;
}

}  // namespace

void GrpcMetrics::Method::RecordStart() {
  shards_[ShardOfThisThread(kShards)].started.fetch_add(1, std::memory_order_relaxed);
}

void GrpcMetrics::Method::RecordCall(grpc::StatusCode code, double seconds) {
  const int index = static_cast<int>(code);
  if (index < 0 || index >= kCodes) {
    Handled(code).Increment();  // never from gRPC itself: not worth a shard
    handling_->Observe(seconds);
    return;
  }
  Shard& shard = shards_[ShardOfThisThread(kShards)];
  shard.handled[index].fetch_add(1, std::memory_order_relaxed);
  const uint64_t nanoseconds =
      seconds > 0 ? static_cast<uint64_t>(std::llround(seconds * 1e9)) : 0;
  // prometheus's buckets are upper bounds, inclusive ("le").
  const auto& bounds = HandlingBucketNanoseconds();
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), nanoseconds) - bounds.begin());
  shard.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  shard.sum_nanoseconds.fetch_add(nanoseconds, std::memory_order_relaxed);
}

void GrpcMetrics::Method::Fold() {
  uint64_t started = 0;
  std::array<uint64_t, kCodes> handled{};
  std::vector<double> buckets(kBuckets, 0.0);
  uint64_t observations = 0;
  uint64_t sum_nanoseconds = 0;
  for (Shard& shard : shards_) {
    started += shard.started.exchange(0, std::memory_order_relaxed);
    for (int code = 0; code < kCodes; ++code) {
      handled[code] += shard.handled[code].exchange(0, std::memory_order_relaxed);
    }
    for (int bucket = 0; bucket < kBuckets; ++bucket) {
      const uint64_t count = shard.buckets[bucket].exchange(0, std::memory_order_relaxed);
      buckets[bucket] += static_cast<double>(count);
      observations += count;
    }
    sum_nanoseconds += shard.sum_nanoseconds.exchange(0, std::memory_order_relaxed);
  }
  if (started > 0) started_->Increment(static_cast<double>(started));
  for (int code = 0; code < kCodes; ++code) {
    if (handled[code] > 0) {
      Handled(static_cast<grpc::StatusCode>(code)).Increment(static_cast<double>(handled[code]));
    }
  }
  if (observations > 0) {
    handling_->ObserveMultiple(buckets, static_cast<double>(sum_nanoseconds) / 1e9);
  }
}

std::vector<prometheus::MetricFamily> GrpcMetrics::Collect() const {
  absl::ReaderMutexLock lock(&mutex_);
  for (const auto& [name, list] : series_) {
    for (const auto& series : list) series->Fold();
  }
  return {};
}

void GrpcMetrics::InitializeMethod(std::string_view full_method, std::string_view type) {
  Method& series = ForMethod(full_method, type);
  for (int code = 0; code < Method::kCodes; ++code) {
    series.Handled(static_cast<grpc::StatusCode>(code));
  }
}

void GrpcMetrics::RecordStart(std::string_view full_method, std::string_view type) {
  ForMethod(full_method, type).RecordStart();
}

void GrpcMetrics::RecordCall(std::string_view full_method, std::string_view type,
                             grpc::StatusCode code, double seconds) {
  ForMethod(full_method, type).RecordCall(code, seconds);
}

}  // namespace tollgate
