#pragma once

#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "common/auth/access_denial.h"
#include "common/auth/admission.h"
#include "common/auth/bearer_authenticator.h"

namespace tollgate {

// The server half of SPEC section 6, for any C++ gRPC service: on each call,
// reads the `authorization` metadata, lets the BearerAuthenticator decide,
// and records the verdict for the handler's guard (AdmissionOf).
//
// Two paths, one verdict. On a server set up by InstallAuthInterceptor,
// AuthInterceptorFactory decides a call that carries a token as gRPC creates
// the call's interceptors (the call's metadata is already bound to its
// context then): an admitted call gets no interceptor at all, because
// nothing about it needs changing, and gRPC runs it without interception
// hooks. Every other call (refused, no token, unknown kid, or a server
// without AdmittingServerContext) gets an AuthInterceptor, which decides (or
// applies the factory's refusal) at POST_RECV_INITIAL_METADATA.
//
// A refused call ends with the exact status of ToGrpcStatus(denial) and, for
// UNAUTHENTICATED, the `www-authenticate` trailer: the interceptor replaces
// whatever status the handler finishes with (ModifySendStatus at
// PRE_SEND_STATUS) and adds the trailer. The handler's guard finishes the
// call without a response message. Should a handler skip its guard and send
// a message anyway, the interceptor cancels the call with the denial status
// before the message leaves (grpc_call_cancel_with_status), so no response
// body of a refused call ever reaches the client.
//
// A token naming an unknown kid parks the call (without blocking a thread)
// until the KeySource has had its chance to fetch new keys, then decides
// again. Every path ends in Proceed(): a call left without it would hang
// server shutdown.
class AuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  // `decided`: a verdict the factory already made (a refusal), applied
  // instead of deciding again.
  AuthInterceptor(const BearerAuthenticator& authenticator, grpc::experimental::ServerRpcInfo* info,
                  std::optional<AuthDecision> decided = std::nullopt);
  ~AuthInterceptor() override;

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override;

 private:
  void Apply(const AuthDecision& decision);
  void Record(Admission admission);

  const BearerAuthenticator& authenticator_;
  grpc::ServerContextBase* const context_;
  // context_ when it carries its own Admission; else the registry is used.
  AdmittingServerContext* const own_context_;
  const char* const method_;
  bool decided_ = false;
  // Set when the call is refused: the status and the RFC 6750 challenge
  // (empty: no trailer), made once from the denial.
  std::optional<grpc::Status> rejection_;
  std::string challenge_;
  std::string parked_authorization_;    // owned copy while waiting for keys
};

// Admits a call that carries a valid token at once on an
// AdmittingServerContext (no interceptor), and creates an AuthInterceptor
// for every other call; see InstallAuthInterceptor.
class AuthInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuthInterceptorFactory(const BearerAuthenticator& authenticator)
      : authenticator_(authenticator) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // How many calls got an AuthInterceptor (all but those admitted at once).
  uint64_t interceptors_created() const { return interceptors_created_.load(); }

 private:
  const BearerAuthenticator& authenticator_;
  std::atomic<uint64_t> interceptors_created_{0};
};

// Puts the AuthInterceptor in front of every method of the server that
// `builder` builds (replacing any other interceptor factories), makes the
// server allocate an AdmittingServerContext for every callback-API call
// (replacing any other context allocator), and raises the server's metadata
// limit to 16 KiB: gRPC's default of 8 KiB would otherwise refuse an
// oversized token with RESOURCE_EXHAUSTED before the interceptor can answer
// the UNAUTHENTICATED that SPEC section 3 promises. `authenticator` must
// outlive the server. Returns the factory: the builder owns it, then the
// server that BuildAndStart makes; the reference is good for that server's
// life (if BuildAndStart fails, it dangles once the builder is gone).
const AuthInterceptorFactory& InstallAuthInterceptor(grpc::ServerBuilder& builder,
                                                     const BearerAuthenticator& authenticator);

}  // namespace tollgate
