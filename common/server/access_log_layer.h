#pragma once

#include "common/logging/logger.h"
#include "common/server/call_layer.h"

namespace tollgate {

// The access log: one line per call, at the end of the call, through the
// process's logger (logging::DefaultLogger(), so *_LOG_FORMAT and
// *_LOG_LEVEL apply):
//
//   {"ts":"2026-12-03T10:11:12.345Z","level":"info","service":"sum","msg":"call",
//    "method":"/tollgate.sum.v1.SumService/Sum","peer":"ipv4:127.0.0.1:40312",
//    "code":"OK","duration_ms":0.153,"sub":"8f0c...","jti":"b1e2...",
//    "request_id":"5f1c0a9e2d7b4c3"}
//
// `code` is the status code's canonical name (StatusCodeName); `sub` and
// `jti` are there when the caller showed a valid token; `reason` is there
// when the call was refused (DenialReasonName, or a layer's reason). Level
// error for UNKNOWN, INTERNAL and DATA_LOSS (the server failed), info
// otherwise. Nothing else of the call is logged: no metadata, no message,
// so never a token, password or code. Lines are written deferred
// (Logger::LogDeferred): within 100 ms, in order.
class AccessLogLayer final : public CallLayer {
 public:
  void OnCallEnd(const CallRecord& call) override;
};

}  // namespace tollgate
