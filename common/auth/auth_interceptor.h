#pragma once

#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>

#include <optional>
#include <string>

#include "common/auth/access_denial.h"
#include "common/auth/bearer_authenticator.h"

namespace tollgate {

// The server half of SPEC section 6, for any C++ gRPC service: on each call,
// reads the `authorization` metadata, lets the BearerAuthenticator decide,
// and records the verdict for the handler's guard (AdmissionOf).
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
  AuthInterceptor(const BearerAuthenticator& authenticator, grpc::experimental::ServerRpcInfo* info);
  ~AuthInterceptor() override;

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override;

 private:
  void Apply(const AuthDecision& decision);

  const BearerAuthenticator& authenticator_;
  grpc::ServerContextBase* const context_;
  const char* const method_;
  // Set when the call is refused: the status and the RFC 6750 challenge
  // (empty: no trailer), made once from the denial.
  std::optional<grpc::Status> rejection_;
  std::string challenge_;
  std::string parked_authorization_;    // owned copy while waiting for keys
};

// Creates an AuthInterceptor for every call; see InstallAuthInterceptor.
class AuthInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuthInterceptorFactory(const BearerAuthenticator& authenticator)
      : authenticator_(authenticator) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AuthInterceptor(authenticator_, info);
  }

 private:
  const BearerAuthenticator& authenticator_;
};

// Puts the AuthInterceptor in front of every method of the server that
// `builder` builds (replacing any other interceptor factories), and raises
// the server's metadata limit to 16 KiB: gRPC's default of 8 KiB would
// otherwise refuse an oversized token with RESOURCE_EXHAUSTED before the
// interceptor can answer the UNAUTHENTICATED that SPEC section 3 promises.
// `authenticator` must outlive the server.
void InstallAuthInterceptor(grpc::ServerBuilder& builder, const BearerAuthenticator& authenticator);

}  // namespace tollgate
