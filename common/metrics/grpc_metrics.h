#pragma once

#include <grpcpp/support/status_code_enum.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace tollgate {

// The server-side RPC metrics under the names and labels of
// go-grpc-prometheus, so its dashboards and alerts work unchanged:
//
//   grpc_server_started_total{grpc_service,grpc_method,grpc_type}      counter
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
//                                                                      counter
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}   histogram
//     buckets .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (+Inf)
//
// grpc_service and grpc_method come from the full method name the way
// go-grpc-prometheus splits it: "/tollgate.sum.v1.SumService/Sum" gives
// "tollgate.sum.v1.SumService" and "Sum"; a name without a second '/' gives
// "unknown" and "unknown". grpc_type is "unary", "client_stream",
// "server_stream" or "bidi_stream". grpc_code is the Go name of the code
// (GrpcCodeName).
//
// Thread-safe. The families are registered in the constructor (the registry
// must outlive this object); each (method, type) series is created on first
// use and its pointer cached.
//
// A call is recorded without a lock and without a write that another core
// also makes: into one of kShards sets of plain atomic counters, the one of
// the calling thread (prometheus-cpp's own Histogram::Observe takes a mutex,
// and its counters are atomic doubles updated by compare-and-swap; with
// every call of every thread on the same few cache lines, that cost the
// server several percent of its calls per second on two cores). Collect()
// folds the shards into the registry's series, so list this object before
// the registry in HttpEndpoint::ServeMetrics, as CounterMirror is; it
// returns no families of its own. Between two Collect() calls the registry
// shows the counts of the last one.
class GrpcMetrics final : public prometheus::Collectable {
 public:
  explicit GrpcMetrics(prometheus::Registry& registry);
  ~GrpcMetrics() override;

  GrpcMetrics(const GrpcMetrics&) = delete;
  GrpcMetrics& operator=(const GrpcMetrics&) = delete;

  // The series of one (full method, type), for a caller that can keep the
  // reference (say, per registered method) and skip the name lookup. Lives
  // as long as the GrpcMetrics.
  class Method {
   public:
    void RecordStart();
    void RecordCall(grpc::StatusCode code, double seconds);

   private:
    friend class GrpcMetrics;
    static constexpr int kCodes = 17;  // OK .. UNAUTHENTICATED
    static constexpr int kBuckets = 12;  // the 11 bounds and +Inf
    static constexpr int kShards = 8;
    // What the threads of one shard recorded since the last fold.
    struct alignas(64) Shard {
      std::atomic<uint64_t> started{0};
      std::array<std::atomic<uint64_t>, kCodes> handled{};
      std::array<std::atomic<uint64_t>, kBuckets> buckets{};
      std::atomic<uint64_t> sum_nanoseconds{0};
    };
    prometheus::Counter& Handled(grpc::StatusCode code);
    // Moves what the shards hold into the prometheus series.
    void Fold();

    prometheus::Family<prometheus::Counter>* handled_family_ = nullptr;
    std::string type_;
    std::string service_;
    std::string method_;
    prometheus::Counter* started_ = nullptr;
    prometheus::Histogram* handling_ = nullptr;
    std::array<std::atomic<prometheus::Counter*>, kCodes> handled_{};
    std::array<Shard, kShards> shards_;
  };

  // Finds or creates the series of a method (one shared-lock lookup).
  Method& ForMethod(std::string_view full_method, std::string_view type);

  // Creates the started, handling and every code's handled series of a
  // method at 0, as go-grpc-prometheus's InitializeMetrics does, so a
  // rate() over them exists before the first call.
  void InitializeMethod(std::string_view full_method, std::string_view type);

  // A call arrived: grpc_server_started_total += 1.
  void RecordStart(std::string_view full_method, std::string_view type);

  // A call finished with `code` after `seconds`: grpc_server_handled_total
  // += 1 and one grpc_server_handling_seconds observation.
  void RecordCall(std::string_view full_method, std::string_view type, grpc::StatusCode code,
                  double seconds);

  // Folds what was recorded into the registry's series; no families.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_;

  mutable absl::Mutex mutex_;
  // Full method name -> its series, one per type (in practice one).
  absl::flat_hash_map<std::string, std::vector<std::unique_ptr<Method>>> series_
      ABSL_GUARDED_BY(mutex_);
};

// The name go-grpc-prometheus puts in grpc_code: Go's codes.Code.String()
// ("OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
// "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
// "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal",
// "Unavailable", "DataLoss", "Unauthenticated"; "Code(N)" for others).
std::string GrpcCodeName(grpc::StatusCode code);

}  // namespace tollgate
