#include "common/auth/auth_interceptor.h"

#include <grpc/grpc.h>
#include <grpcpp/server_context.h>

#include "common/auth/admission.h"

namespace tollgate {
namespace {

using grpc::experimental::InterceptionHookPoints;

// ServerContextBase::c_call() is protected; a member pointer taken through a
// derived class is the sanctioned way for framework code to reach it.
struct ContextCallAccess : grpc::ServerContextBase {
  static grpc_call* Of(grpc::ServerContextBase* context) {
    grpc_call* (grpc::ServerContextBase::*c_call)() = &ContextCallAccess::c_call;
    return (context->*c_call)();
  }
};

AuthorizationMetadata ReadAuthorization(
    std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
  AuthorizationMetadata authorization;
  if (metadata == nullptr) return authorization;
  auto [begin, end] = metadata->equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    if (authorization.count++ == 0) {
      authorization.value = std::string_view(it->second.data(), it->second.size());
    }
  }
  return authorization;
}

}  // namespace

AuthInterceptor::AuthInterceptor(const BearerAuthenticator& authenticator,
                                 grpc::experimental::ServerRpcInfo* info)
    : authenticator_(authenticator), context_(info->server_context()), method_(info->method()) {}

AuthInterceptor::~AuthInterceptor() { internal::ForgetAdmission(context_, this); }

void AuthInterceptor::Apply(const AuthDecision& decision) {
  if (decision.outcome == AuthDecision::Outcome::kAdmit) {
    internal::RecordAdmission(context_, this, Admission::Admit(decision.caller));
    return;
  }
  // kReject, or kRetryWithNewKeys decided a second time (cannot happen: the
  // authenticator only asks once): refuse.
  rejection_ = ToGrpcStatus(decision.denial);
  challenge_ = WwwAuthenticate(decision.denial);
  internal::RecordAdmission(context_, this, Admission::Reject(*rejection_));
}

void AuthInterceptor::Intercept(grpc::experimental::InterceptorBatchMethods* methods) {
  if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
    const AuthorizationMetadata authorization = ReadAuthorization(methods->GetRecvInitialMetadata());
    AuthDecision decision = authenticator_.Decide(method_, authorization, /*keys_refreshed=*/false);
    if (decision.outcome == AuthDecision::Outcome::kRetryWithNewKeys) {
      parked_authorization_.assign(authorization.value);
      const int count = authorization.count;
      authenticator_.keys().RefreshForUnknownKid([this, methods, count] {
        Apply(authenticator_.Decide(method_, AuthorizationMetadata{count, parked_authorization_},
                                    /*keys_refreshed=*/true));
        methods->Proceed();
      });
      return;  // Proceed() runs in the callback above
    }
    Apply(decision);
  }
  if (rejection_.has_value()) {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      // A handler without its guard tried to answer a refused call: the
      // message must not leave. Cancelling drops the trailer but keeps the
      // exact status.
      grpc_call_cancel_with_status(ContextCallAccess::Of(context_),
                                   static_cast<grpc_status_code>(rejection_->error_code()),
                                   rejection_->error_message().c_str(), nullptr);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      methods->ModifySendStatus(*rejection_);
      if (!challenge_.empty()) {
        methods->GetSendTrailingMetadata()->emplace("www-authenticate", challenge_);
      }
    }
  }
  methods->Proceed();
}

void InstallAuthInterceptor(grpc::ServerBuilder& builder, const BearerAuthenticator& authenticator) {
  constexpr int kMaxMetadataBytes = 16 * 1024;
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kMaxMetadataBytes);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<AuthInterceptorFactory>(authenticator));
  builder.experimental().SetInterceptorCreators(std::move(factories));
}

}  // namespace tollgate
