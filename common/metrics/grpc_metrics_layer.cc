#include "common/metrics/grpc_metrics_layer.h"

namespace tollgate {

std::string_view GrpcMetricsLayer::TypeName(grpc::experimental::ServerRpcInfo::Type type) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  switch (type) {
    case Type::UNARY: return "unary";
    case Type::CLIENT_STREAMING: return "client_stream";
    case Type::SERVER_STREAMING: return "server_stream";
    case Type::BIDI_STREAMING: return "bidi_stream";
  }
  return "unary";
}

GrpcMetrics::Method& GrpcMetricsLayer::SeriesOf(const CallRecord& call) {
  const size_t slot = (reinterpret_cast<uintptr_t>(call.method) >> 3) % kSlots;
  const Remembered* known = slots_[slot].load(std::memory_order_acquire);
  if (known != nullptr && known->method_pointer == call.method && known->type == call.type &&
      known->method == call.method) {
    return *known->series;
  }
  GrpcMetrics::Method& series = metrics_.ForMethod(call.method, TypeName(call.type));
  if (known == nullptr) {
    std::lock_guard<std::mutex> lock(remembered_mutex_);
    if (remembered_.size() < kSlots) {  // bounded: unregistered names may be many
      remembered_.push_back(std::make_unique<Remembered>(
          Remembered{call.method, call.type, std::string(call.method), &series}));
      const Remembered* expected = nullptr;
      slots_[slot].compare_exchange_strong(expected, remembered_.back().get(),
                                           std::memory_order_acq_rel);
    }
  }
  return series;
}

std::optional<grpc::Status> GrpcMetricsLayer::OnCallStart(CallRecord& call) {
  SeriesOf(call).RecordStart();
  return std::nullopt;
}

void GrpcMetricsLayer::OnCallEnd(const CallRecord& call) {
  SeriesOf(call).RecordCall(call.status_code(), call.duration_seconds());
}

}  // namespace tollgate
