#include "common/server/access_log_layer.h"

#include <cmath>

#include "common/grpc_status.h"

namespace tollgate {
namespace {

logging::Level LevelOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
      return logging::Level::kError;
    default:
      return logging::Level::kInfo;
  }
}

}  // namespace

void AccessLogLayer::OnCallEnd(const CallRecord& call) {
  logging::Logger& logger = logging::DefaultLogger();
  const grpc::StatusCode code = call.status_code();
  const logging::Level level = LevelOf(code);
  if (!logger.Enabled(level)) return;
  // Microseconds are enough, and keep the number short.
  const auto duration_ms =
      std::chrono::duration_cast<std::chrono::microseconds>(call.end - call.start);
  using logging::Field;
  const std::string_view code_name = StatusCodeName(code);
  if (call.caller != nullptr) {
    logger.LogDeferred(level, "call",
                       {Field("method", call.method), Field("peer", call.peer),
                        Field("code", code_name), Field("duration_ms", duration_ms),
                        Field("sub", call.caller->subject()),
                        Field("jti", call.caller->token_id()),
                        Field("request_id", call.request_id)});
  } else if (!call.denial.empty()) {
    logger.LogDeferred(level, "call",
                       {Field("method", call.method), Field("peer", call.peer),
                        Field("code", code_name), Field("duration_ms", duration_ms),
                        Field("reason", call.denial), Field("request_id", call.request_id)});
  } else {
    logger.LogDeferred(level, "call",
                       {Field("method", call.method), Field("peer", call.peer),
                        Field("code", code_name), Field("duration_ms", duration_ms),
                        Field("request_id", call.request_id)});
  }
}

}  // namespace tollgate
