#include "auth_service/auth_service_impl.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/auth/admission.h"
#include "common/grpc_status.h"
#include "common/server/call_pipeline.h"

namespace tollgate::auth {
namespace {

// The verified caller, or null on a public method called without a token.
using Caller = std::shared_ptr<const Identity>;

// The guard, then `work(caller)` on `pool`, finishing the call with the
// grpc::Status it returns. A refused call runs no business logic; a full
// pool sheds the call at once with RESOURCE_EXHAUSTED.
template <typename Work>
grpc::ServerUnaryReactor* Serve(HashingPool& pool, grpc::CallbackServerContext* context,
                                Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Admission admission = AdmissionOf(context);
  if (!admission.admitted()) {
    reactor->Finish(ReportCallStatus(context, admission.rejection()));
    return reactor;
  }
  absl::Status queued = pool.Submit(
      [context, reactor, caller = admission.caller(), work = std::move(work)]() mutable {
        reactor->Finish(ReportCallStatus(context, work(caller)));
      });
  if (!queued.ok()) reactor->Finish(ReportCallStatus(context, ToGrpcStatus(queued)));
  return reactor;
}

// The interceptor admits a method with a role only with a verified caller;
// this is the backstop if a handler were ever wired to a public method.
grpc::Status NoCaller() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "authorization metadata is required");
}

std::string ClientAddressOf(const grpc::CallbackServerContext& context,
                            const TrustedProxies& trusted) {
  std::vector<std::string_view> forwarded_for;
  if (!trusted.empty()) {
    const auto range = context.client_metadata().equal_range("x-forwarded-for");
    for (auto it = range.first; it != range.second; ++it) {
      forwarded_for.emplace_back(it->second.data(), it->second.size());
    }
  }
  return ClientAddress(context.peer(), forwarded_for, trusted);
}

}  // namespace

AuthServiceImpl::AuthServiceImpl(Dependencies dependencies) : deps_(std::move(dependencies)) {}

grpc::ServerUnaryReactor* AuthServiceImpl::Register(grpc::CallbackServerContext* context,
                                                    const v1::RegisterRequest* request,
                                                    v1::AuthResponse* response) {
  return Serve(*deps_.hashing_pool, context, [this, request, response](const Caller&) {
    return ToGrpcStatus(deps_.sessions->Register(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::Login(grpc::CallbackServerContext* context,
                                                 const v1::LoginRequest* request,
                                                 v1::AuthResponse* response) {
  // Read on the gRPC thread: the context's metadata is not for other threads.
  std::string client = ClientAddressOf(*context, deps_.trusted_proxies);
  return Serve(*deps_.hashing_pool, context,
               [this, request, response, client = std::move(client)](const Caller&) {
                 return ToGrpcStatus(deps_.sessions->Login(*request, client), response);
               });
}

grpc::ServerUnaryReactor* AuthServiceImpl::Refresh(grpc::CallbackServerContext* context,
                                                   const v1::RefreshRequest* request,
                                                   v1::AuthResponse* response) {
  return Serve(*deps_.database_pool, context, [this, request, response](const Caller&) {
    return ToGrpcStatus(deps_.sessions->Refresh(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::Logout(grpc::CallbackServerContext* context,
                                                  const v1::LogoutRequest* request,
                                                  v1::LogoutResponse*) {
  return Serve(*deps_.database_pool, context, [this, request](const Caller&) {
    return ToGrpcStatus(deps_.sessions->Logout(*request));
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetJwks(grpc::CallbackServerContext* context,
                                                   const v1::GetJwksRequest*,
                                                   v1::GetJwksResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (Admission admission = AdmissionOf(context); !admission.admitted()) {
    reactor->Finish(ReportCallStatus(context, admission.rejection()));
    return reactor;
  }
  *response = deps_.sessions->GetJwks();
  reactor->Finish(ReportCallStatus(context, grpc::Status::OK));
  return reactor;
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetCurrentUser(grpc::CallbackServerContext* context,
                                                          const v1::GetCurrentUserRequest*,
                                                          v1::User* response) {
  return Serve(*deps_.database_pool, context, [this, response](const Caller& caller) {
    if (!caller) return NoCaller();
    return ToGrpcStatus(deps_.profiles->GetCurrentUser(*caller), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::UpdateProfile(grpc::CallbackServerContext* context,
                                                         const v1::UpdateProfileRequest* request,
                                                         v1::User* response) {
  return Serve(*deps_.database_pool, context, [this, request, response](const Caller& caller) {
    if (!caller) return NoCaller();
    return ToGrpcStatus(deps_.profiles->UpdateProfile(*caller, *request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::ChangePassword(
    grpc::CallbackServerContext* context, const v1::ChangePasswordRequest* request,
    v1::AuthResponse* response) {
  return Serve(*deps_.hashing_pool, context, [this, request, response](const Caller& caller) {
    if (!caller) return NoCaller();
    return ToGrpcStatus(deps_.profiles->ChangePassword(*caller, *request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::RequestPasswordReset(
    grpc::CallbackServerContext* context, const v1::RequestPasswordResetRequest* request,
    v1::RequestPasswordResetResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Admission admission = AdmissionOf(context);
  if (!admission.admitted()) {
    reactor->Finish(ReportCallStatus(context, admission.rejection()));
    return reactor;
  }
  absl::Status queued = deps_.database_pool->Submit([this, context, reactor, request] {
    absl::StatusOr<DeferredWork> deferred = deps_.recovery->RequestPasswordReset(*request);
    if (!deferred.ok()) {
      reactor->Finish(ReportCallStatus(context, ToGrpcStatus(deferred.status())));
      return;
    }
    // Copied out first: `request` dies with the call once it is finished.
    DeferredWork write = *std::move(deferred);
    // Reply first, then write the code and its mail, so a known account
    // answers no later than an unknown one.
    reactor->Finish(ReportCallStatus(context, grpc::Status::OK));
    if (write) write();
  });
  if (!queued.ok()) reactor->Finish(ReportCallStatus(context, ToGrpcStatus(queued)));
  return reactor;
}

grpc::ServerUnaryReactor* AuthServiceImpl::ResetPassword(grpc::CallbackServerContext* context,
                                                         const v1::ResetPasswordRequest* request,
                                                         v1::ResetPasswordResponse*) {
  return Serve(*deps_.hashing_pool, context, [this, request](const Caller&) {
    return ToGrpcStatus(deps_.recovery->ResetPassword(*request));
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::RequestEmailVerification(
    grpc::CallbackServerContext* context, const v1::RequestEmailVerificationRequest*,
    v1::RequestEmailVerificationResponse*) {
  return Serve(*deps_.database_pool, context, [this](const Caller& caller) {
    if (!caller) return NoCaller();
    return ToGrpcStatus(deps_.recovery->RequestEmailVerification(*caller));
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::VerifyEmail(grpc::CallbackServerContext* context,
                                                       const v1::VerifyEmailRequest* request,
                                                       v1::User* response) {
  return Serve(*deps_.database_pool, context, [this, request, response](const Caller&) {
    return ToGrpcStatus(deps_.recovery->VerifyEmail(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::ListUsers(grpc::CallbackServerContext* context,
                                                     const v1::ListUsersRequest* request,
                                                     v1::ListUsersResponse* response) {
  return Serve(*deps_.database_pool, context, [this, request, response](const Caller& caller) {
    if (!caller) return NoCaller();
    return ToGrpcStatus(deps_.admin->ListUsers(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::SetUserRoles(grpc::CallbackServerContext* context,
                                                        const v1::SetUserRolesRequest* request,
                                                        v1::User* response) {
  return Serve(*deps_.database_pool, context, [this, request, response](const Caller& caller) {
    if (!caller) return NoCaller();
    return ToGrpcStatus(deps_.admin->SetUserRoles(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::SetUserActive(grpc::CallbackServerContext* context,
                                                         const v1::SetUserActiveRequest* request,
                                                         v1::User* response) {
  return Serve(*deps_.database_pool, context, [this, request, response](const Caller& caller) {
    if (!caller) return NoCaller();
    return ToGrpcStatus(deps_.admin->SetUserActive(*request), response);
  });
}

}  // namespace tollgate::auth
