#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics/grpc_metrics.h"
#include "common/server/call_layer.h"

namespace tollgate {

// Feeds GrpcMetrics (go-grpc-prometheus's grpc_server_started_total,
// grpc_server_handled_total and grpc_server_handling_seconds) from the call
// pipeline: a start for every call that reaches this layer, and a handled
// call with its final code and duration at its end. Refusals by layers
// after it and by auth are counted with their codes.
class GrpcMetricsLayer final : public CallLayer {
 public:
  explicit GrpcMetricsLayer(GrpcMetrics& metrics) : metrics_(metrics) {}

  std::optional<grpc::Status> OnCallStart(CallRecord& call) override;
  void OnCallEnd(const CallRecord& call) override;

  // go-grpc-prometheus's grpc_type: "unary", "client_stream",
  // "server_stream", "bidi_stream".
  static std::string_view TypeName(grpc::experimental::ServerRpcInfo::Type type);

 private:
  // The series of a call's method. gRPC names a registered method by the
  // same pointer on every call, so a small lock-free table by that pointer
  // (the name is compared too: an unregistered method's name may live at a
  // reused address) spares the locked lookup by name on almost every call.
  GrpcMetrics::Method& SeriesOf(const CallRecord& call);

  struct Remembered {
    const char* method_pointer;
    grpc::experimental::ServerRpcInfo::Type type;
    std::string method;
    GrpcMetrics::Method* series;
  };
  static constexpr size_t kSlots = 64;

  GrpcMetrics& metrics_;
  std::array<std::atomic<const Remembered*>, kSlots> slots_{};
  std::mutex remembered_mutex_;
  std::vector<std::unique_ptr<Remembered>> remembered_;  // owns what slots_ point to
};

}  // namespace tollgate
