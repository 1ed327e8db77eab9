#pragma once

#include <atomic>
#include <cstdint>

#include "common/server/call_layer.h"

namespace tollgate {

// A cap on the calls a server runs at once. Past `max_calls` a new call is
// refused at once with RESOURCE_EXHAUSTED "server is at its limit of N
// calls in flight" (reason "calls_in_flight_limit"), before the auth
// decision and without running its handler, so a flood costs a little CPU
// per call and no memory that grows with it. gRPC clients treat
// RESOURCE_EXHAUSTED as retryable with backoff; a load balancer sends the
// next call elsewhere. 0: no cap.
class InFlightLimitLayer final : public CallLayer {
 public:
  explicit InFlightLimitLayer(int64_t max_calls) : max_calls_(max_calls) {}

  std::optional<grpc::Status> OnCallStart(CallRecord& call) override;
  void OnCallEnd(const CallRecord& call) override;

  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const int64_t max_calls_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace tollgate
