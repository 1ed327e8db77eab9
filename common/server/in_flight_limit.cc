#include "common/server/in_flight_limit.h"

#include <string>

namespace tollgate {

std::optional<grpc::Status> InFlightLimitLayer::OnCallStart(CallRecord& call) {
  const int64_t now_in_flight = in_flight_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (max_calls_ > 0 && now_in_flight > max_calls_) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);  // no OnCallEnd for a refusal
    refused_.fetch_add(1, std::memory_order_relaxed);
    call.denial = "calls_in_flight_limit";
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "server is at its limit of " + std::to_string(max_calls_) +
                            " calls in flight");
  }
  return std::nullopt;
}

void InFlightLimitLayer::OnCallEnd(const CallRecord&) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace tollgate
