#include "common/auth/auth_interceptor.h"

#include <grpc/grpc.h>
#include <grpcpp/generic/async_generic_service.h>
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
    const std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
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

// Every callback-API call of the server gets an AdmittingServerContext.
// Generic callback calls (gRPC serves unknown methods through one) get a
// plain GenericCallbackServerContext, allocated here too: gRPC hands every
// context of the server back to this allocator, sometimes through the
// CallbackServerContext overload, so each one must be ours to delete.
class AdmittingContextAllocator final : public grpc::ContextAllocator {
 public:
  grpc::CallbackServerContext* NewCallbackServerContext() override {
    return new AdmittingServerContext();
  }
  grpc::GenericCallbackServerContext* NewGenericCallbackServerContext() override {
    return new grpc::GenericCallbackServerContext();
  }
  // Both are deleted through ServerContextBase's virtual destructor.
  void Release(grpc::CallbackServerContext* context) override { delete context; }
  void Release(grpc::GenericCallbackServerContext* context) override { delete context; }
};

}  // namespace

AuthInterceptor::AuthInterceptor(const BearerAuthenticator& authenticator,
                                 grpc::experimental::ServerRpcInfo* info,
                                 std::optional<AuthDecision> decided)
    : authenticator_(authenticator),
      context_(info->server_context()),
      own_context_(dynamic_cast<AdmittingServerContext*>(context_)),
      method_(info->method()) {
  if (decided.has_value()) {
    Apply(*decided);
    decided_ = true;
  }
}

AuthInterceptor::~AuthInterceptor() {
  if (own_context_ == nullptr) internal::ForgetAdmission(context_, this);
}

void AuthInterceptor::Record(Admission admission) {
  if (own_context_ != nullptr) {
    own_context_->admission_ = std::move(admission);
  } else {
    internal::RecordAdmission(context_, this, std::move(admission));
  }
}

void AuthInterceptor::Apply(const AuthDecision& decision) {
  if (decision.outcome == AuthDecision::Outcome::kAdmit) {
    Record(Admission::Admit(decision.caller));
    return;
  }
  // kReject, or kRetryWithNewKeys decided a second time (cannot happen: the
  // authenticator only asks once): refuse.
  rejection_ = ToGrpcStatus(decision.denial);
  challenge_ = WwwAuthenticate(decision.denial);
  Record(Admission::Reject(*rejection_));
}

void AuthInterceptor::Intercept(grpc::experimental::InterceptorBatchMethods* methods) {
  if (!decided_ &&
      methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
    decided_ = true;
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

grpc::experimental::Interceptor* AuthInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  std::optional<AuthDecision> decided;
  if (auto* context = dynamic_cast<AdmittingServerContext*>(info->server_context())) {
    // gRPC 1.51 binds the received initial metadata to the context before it
    // creates the call's interceptors. Only a call that shows a token is
    // decided here, so if that order ever changed, calls would merely take
    // the interceptor path below, never be misjudged.
    const AuthorizationMetadata authorization = ReadAuthorization(&context->client_metadata());
    if (authorization.count > 0) {
      AuthDecision decision = authenticator_.Decide(info->method(), authorization,
                                                    /*keys_refreshed=*/false);
      if (decision.outcome == AuthDecision::Outcome::kAdmit) {
        context->admission_ = Admission::Admit(std::move(decision.caller));
        return nullptr;  // nothing to change on this call: no interceptor
      }
      // A refusal is applied as made; an unknown kid is decided again at
      // POST_RECV_INITIAL_METADATA, where the call can wait for new keys.
      if (decision.outcome == AuthDecision::Outcome::kReject) decided = std::move(decision);
    }
  }
  interceptors_created_.fetch_add(1, std::memory_order_relaxed);
  return new AuthInterceptor(authenticator_, info, std::move(decided));
}

const AuthInterceptorFactory& InstallAuthInterceptor(grpc::ServerBuilder& builder,
                                                     const BearerAuthenticator& authenticator) {
  constexpr int kMaxMetadataBytes = 16 * 1024;
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kMaxMetadataBytes);
  builder.SetContextAllocator(std::make_unique<AdmittingContextAllocator>());
  auto factory = std::make_unique<AuthInterceptorFactory>(authenticator);
  const AuthInterceptorFactory& installed = *factory;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::move(factory));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  return installed;
}

}  // namespace tollgate
