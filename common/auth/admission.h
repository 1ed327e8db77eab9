#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <optional>
#include <utility>

#include "common/token/identity.h"

namespace tollgate {

// The interceptor's verdict on one call, as the handler sees it.
class Admission {
 public:
  static Admission Admit(std::shared_ptr<const Identity> caller) {
    return Admission(std::move(caller), grpc::Status::OK);
  }
  static Admission Reject(grpc::Status status) { return Admission(nullptr, std::move(status)); }

  bool admitted() const { return rejection_.ok(); }
  // The verified caller. Never null on an admitted call to a method that
  // needs a role; may be null on a public method called without a token.
  const std::shared_ptr<const Identity>& caller() const { return caller_; }
  // The status to finish a refused call with (OK when admitted).
  const grpc::Status& rejection() const { return rejection_; }

 private:
  Admission(std::shared_ptr<const Identity> caller, grpc::Status rejection)
      : caller_(std::move(caller)), rejection_(std::move(rejection)) {}

  std::shared_ptr<const Identity> caller_;
  grpc::Status rejection_;
};

// THE GUARD. Every protected handler begins with it and returns at once when
// the call was not admitted:
//
//   Admission admission = AdmissionOf(context);
//   if (!admission.admitted()) { reactor->Finish(admission.rejection()); return reactor; }
//
// gRPC 1.51 runs the handler even for a call the pipeline refused, so this
// is what keeps business logic from running. The identity comes from the
// pipeline's own record of the call (common/server/call_pipeline.h), never
// from client metadata. A call that no CallPipeline saw (a server built
// without one) is refused: PERMISSION_DENIED "call was not admitted by the
// auth interceptor" (fail closed).
Admission AdmissionOf(const grpc::ServerContextBase* context);

namespace internal {
// Used by CallInterceptor only: records and forgets the verdict of the call
// that `context` belongs to. `owner` makes Forget a no-op if the context
// slot was taken over by a later call.
void RecordAdmission(const grpc::ServerContextBase* context, const void* owner, Admission admission);
void ForgetAdmission(const grpc::ServerContextBase* context, const void* owner);
}  // namespace internal

}  // namespace tollgate
