#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/token/identity.h"

namespace tollgate {

// What the call pipeline knows about one call, for the layers that observe
// it (CallLayer). It is filled as the call goes:
// - before any layer runs: method, type, start and request_id;
// - by the auth layer: caller (a verified token) or denial (refused);
// - when the status is sent: code (by the handler's ReportCallStatus on the
//   fast path, else by the pipeline's interceptor, which sees the status
//   itself), then peer and end, before the layers' OnCallEnd.
struct CallRecord {
  static constexpr int kCodeUnknown = -1;

  const char* method = "";  // "/package.Service/Method"
  grpc::experimental::ServerRpcInfo::Type type =
      grpc::experimental::ServerRpcInfo::Type::UNARY;
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point end;
  // The client's `x-request-id` when it sent a sane one, else generated;
  // echoed to the client in the initial metadata.
  std::string request_id;
  // "ipv4:127.0.0.1:40000", as gRPC names it; set for OnCallEnd only (it
  // views a copy that lives until the layers' OnCallEnd return).
  std::string_view peer;
  // The verified caller; null for a refused call or a public method called
  // without a token.
  std::shared_ptr<const Identity> caller;
  // Why the call was refused (DenialReasonName, or a layer's own reason such
  // as "calls_in_flight_limit"); empty when it was not. Names a static
  // string.
  std::string_view denial;
  // The final grpc::StatusCode, kCodeUnknown until known.
  int code = kCodeUnknown;

  grpc::StatusCode status_code() const {
    return code == kCodeUnknown ? grpc::StatusCode::UNKNOWN : static_cast<grpc::StatusCode>(code);
  }
  double duration_seconds() const { return std::chrono::duration<double>(end - start).count(); }
};

}  // namespace tollgate
