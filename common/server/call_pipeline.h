#pragma once

#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "common/auth/admission.h"
#include "common/auth/bearer_authenticator.h"
#include "common/server/call_layer.h"
#include "common/server/call_record.h"

namespace tollgate {

class CallPipeline;
class CallInterceptor;

// The per-call pipeline of a tollgate server: the per-call layers
// (CallLayer: access log, metrics, limits) in a stated order, then the auth
// decision of SPEC section 6 (BearerAuthenticator), then the handler.
//
// gRPC 1.51 allows one list of interceptor factories and one context
// allocator per server. The pipeline is that one factory and allocator, so
// any number of layers compose without replacing each other.
//
// The fast path. An admitted call costs no gRPC interception hooks: while
// gRPC creates the call's interceptors (the call's metadata is bound to its
// context then), the pipeline runs the layers' OnCallStart, decides the
// call, records the verdict in the call's ServerCallContext and returns no
// interceptor; the layers' OnCallEnd run when gRPC releases the context at
// the end of the call. This needs the handler to tell the pipeline the
// status it finishes with (ReportCallStatus), because without an
// interceptor nothing else sees it: so the fast path is taken only for the
// methods of `reporting_services`. Every other call gets a CallInterceptor,
// which sees the status itself: refused calls (by a layer or by auth),
// calls with an unknown kid (parked, without a thread, until the KeySource
// has fetched new keys), methods of other services (gRPC's health and
// reflection), and calls on gRPC's own contexts (sync-API servers).
//
// A refused call ends with the exact refusal status, plus the
// `www-authenticate` trailer for auth refusals (ModifySendStatus at
// PRE_SEND_STATUS). The handler's guard (AdmissionOf) finishes it without a
// response; should a handler skip its guard and answer anyway, the
// interceptor cancels the call with the refusal status before the message
// leaves (grpc_call_cancel_with_status). Every path ends in Proceed(): a call
// left without it would hang server shutdown.
//
// Request ids: every call gets one (the client's `x-request-id` when it is
// 1 to 128 visible ASCII characters, else 15 random hex digits), kept in
// CallRecord::request_id and echoed in the response's initial metadata as
// `x-request-id`.
struct CallPipelineOptions {
  const BearerAuthenticator* authenticator = nullptr;  // required; outlives the server
  std::vector<CallLayer*> layers;                      // outermost first; outlive the server
  // Full service names ("tollgate.sum.v1.SumService") whose handlers report
  // every status they finish with (ReportCallStatus): their admitted calls
  // take the fast path.
  std::vector<std::string> reporting_services;
};

// The server context of every callback-API call on a server with the
// pipeline installed: it carries the call's verdict and CallRecord, so the
// guard reads the verdict without a lookup and an admitted call needs no
// interceptor.
class ServerCallContext final : public grpc::CallbackServerContext {
 public:
  // `context` as a ServerCallContext, or null when it is another kind. The
  // class is final, so comparing the dynamic type is exact, and cheaper
  // than dynamic_cast on every call.
  static ServerCallContext* Of(grpc::ServerContextBase* context) {
    return context != nullptr && typeid(*context) == typeid(ServerCallContext)
               ? static_cast<ServerCallContext*>(context)
               : nullptr;
  }
  static const ServerCallContext* Of(const grpc::ServerContextBase* context) {
    return Of(const_cast<grpc::ServerContextBase*>(context));
  }

 private:
  friend class CallPipeline;
  friend class CallInterceptor;
  friend class PipelineContextAllocator;
  friend Admission AdmissionOf(const grpc::ServerContextBase* context);
  friend const grpc::Status& ReportCallStatus(grpc::ServerContextBase* context,
                                              const grpc::Status& status);

  const CallPipeline* pipeline_ = nullptr;  // set when the pipeline began the call
  size_t layers_started_ = 0;               // layers whose OnCallEnd is owed
  std::optional<Admission> admission_;      // unset until decided
  CallRecord record_;
};

// How a handler of a reporting service finishes a call:
//
//   reactor->Finish(ReportCallStatus(context, status));
//
// Records the status code in the call's record (on a ServerCallContext;
// elsewhere it does nothing) and returns `status`.
const grpc::Status& ReportCallStatus(grpc::ServerContextBase* context, const grpc::Status& status);

class CallPipeline final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallPipeline(CallPipelineOptions options);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // How many calls got a CallInterceptor (all but the fast-path ones).
  uint64_t interceptors_created() const { return interceptors_created_.load(); }

  const BearerAuthenticator& authenticator() const { return authenticator_; }

 private:
  friend class CallInterceptor;
  friend class PipelineContextAllocator;

  // Fills method, type, start; the request id from `metadata` (may be null).
  void BeginRecord(CallRecord& record, const grpc::experimental::ServerRpcInfo& info,
                   const std::multimap<grpc::string_ref, grpc::string_ref>* metadata) const;
  // Runs OnCallStart in order; sets *started to the number that accepted.
  std::optional<grpc::Status> StartLayers(CallRecord& record, size_t* started) const;
  // Completes `record` (end time; code CANCELLED when the handler reported
  // OK or nothing but the call was cancelled) and runs OnCallEnd.
  void EndCall(CallRecord& record, size_t started, bool cancelled) const;
  bool Reports(const char* method) const;
  grpc::experimental::Interceptor* NewInterceptor(grpc::experimental::ServerRpcInfo* info,
                                                  ServerCallContext* context,
                                                  std::optional<AuthDecision> decided);

  const BearerAuthenticator& authenticator_;
  const std::vector<CallLayer*> layers_;
  std::vector<std::string> reporting_prefixes_;         // "/service/"
  std::atomic<uint64_t> interceptors_created_{0};
};

// The interceptor of every call that does not take the fast path; see
// CallPipeline. On a ServerCallContext it uses the context's record and the
// context's release ends the call's layers; on other contexts it keeps its
// own record, begins the layers when the metadata arrives and ends them
// when gRPC destroys it at the end of the call.
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  // `context`: the call's ServerCallContext, or null. `decided`: a verdict
  // already made (an admission or a refusal), applied instead of deciding.
  CallInterceptor(const CallPipeline& pipeline, grpc::experimental::ServerRpcInfo* info,
                  ServerCallContext* context, std::optional<AuthDecision> decided);
  ~CallInterceptor() override;

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override;

 private:
  friend class CallPipeline;
  void Apply(const AuthDecision& decision);
  void Refuse(grpc::Status status, std::string challenge);
  void Record(Admission admission);

  const CallPipeline& pipeline_;
  grpc::ServerContextBase* const context_;
  ServerCallContext* const own_context_;
  grpc::experimental::ServerRpcInfo* const info_;
  CallRecord own_record_;  // used when own_context_ is null
  CallRecord& record_;
  size_t layers_started_ = 0;  // for own_record_ only
  bool decided_ = false;
  std::optional<grpc::Status> rejection_;
  std::string challenge_;  // the RFC 6750 challenge; empty: no trailer
  std::string parked_authorization_;  // owned copy while waiting for keys
  std::string peer_;                  // what record_.peer views, on others' contexts
};

// Installs `pipeline` as the only interceptor factory of the server that
// `builder` builds, makes the server allocate a ServerCallContext for every
// callback-API call, and raises the server's metadata limit to 16 KiB:
// gRPC's default of 8 KiB would otherwise refuse an oversized token with
// RESOURCE_EXHAUSTED before the pipeline can answer the UNAUTHENTICATED that
// SPEC section 3 promises. Returns the pipeline: the builder owns it, then
// the server that BuildAndStart makes; the reference is good for that
// server's life.
const CallPipeline& InstallCallPipeline(grpc::ServerBuilder& builder, CallPipelineOptions options);

}  // namespace tollgate
