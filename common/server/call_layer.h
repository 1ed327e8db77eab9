#pragma once

#include <grpcpp/support/status.h>

#include <optional>

#include "common/server/call_record.h"

namespace tollgate {

// One per-call layer of the call pipeline (InstallCallPipeline): code that
// runs at the start and at the end of every call of a server, such as the
// access log, the RPC metrics or a cap on calls in flight.
//
// Order. The pipeline runs OnCallStart of its layers in the order given,
// then the auth decision, then the handler; at the end it runs OnCallEnd in
// the reverse order, for every layer whose OnCallStart accepted the call. A
// layer that refuses a call (OnCallStart returns a status) stops the chain:
// the layers after it and the auth decision do not run, the call ends with
// that status (the handler's guard sees it as a refusal, see AdmissionOf),
// and its own OnCallEnd is not called; the layers before it see the call end
// as usual. So observing layers go first.
//
// Both hooks run on gRPC's threads, concurrently for different calls, and
// must be quick and thread-safe. A layer must outlive the server.
class CallLayer {
 public:
  virtual ~CallLayer() = default;

  // `call` has method, type, start and request_id. Return a status (never
  // OK) to refuse the call with it, after setting call.denial.
  virtual std::optional<grpc::Status> OnCallStart(CallRecord& call) {
    (void)call;
    return std::nullopt;
  }

  // The call's status has been sent: `call` is complete.
  virtual void OnCallEnd(const CallRecord& call) { (void)call; }
};

}  // namespace tollgate
