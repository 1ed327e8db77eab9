#include "auth_service/auth_service_impl.h"

#include <string>
#include <string_view>

#include "common/auth/admission.h"
#include "common/grpc_status.h"

namespace tollgate::auth {
namespace {

// For the methods that need a role but are not written yet: the guard first,
// so an unauthenticated caller learns nothing about what exists.
grpc::ServerUnaryReactor* FinishUnimplemented(
    grpc::CallbackServerContext* context, std::string_view method) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (Admission admission = AdmissionOf(context); !admission.admitted()) {
    reactor->Finish(admission.rejection());
    return reactor;
  }
  reactor->Finish(grpc::Status(
      grpc::StatusCode::UNIMPLEMENTED,
      std::string("tollgate.auth.v1.AuthService/") + std::string(method) +
          " is not implemented yet"));
  return reactor;
}

// Runs `work` on `pool` and finishes the call with its status. A full pool
// sheds the call at once with RESOURCE_EXHAUSTED.
grpc::ServerUnaryReactor* RunOn(HashingPool& pool, grpc::CallbackServerContext* context,
                                std::function<grpc::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status queued = pool.Submit([reactor, work = std::move(work)] { reactor->Finish(work()); });
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
  return reactor;
}

}  // namespace

AuthServiceImpl::AuthServiceImpl(AccountService& accounts, HashingPool& hashing_pool,
                                 HashingPool& database_pool)
    : accounts_(accounts), hashing_pool_(hashing_pool), database_pool_(database_pool) {}

grpc::ServerUnaryReactor* AuthServiceImpl::Register(
    grpc::CallbackServerContext* context, const v1::RegisterRequest* request,
    v1::AuthResponse* response) {
  return RunOn(hashing_pool_, context, [this, request, response] {
    return ToGrpcStatus(accounts_.Register(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::Login(
    grpc::CallbackServerContext* context, const v1::LoginRequest* request,
    v1::AuthResponse* response) {
  return RunOn(hashing_pool_, context, [this, request, response] {
    return ToGrpcStatus(accounts_.Login(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::Refresh(
    grpc::CallbackServerContext* context, const v1::RefreshRequest* request,
    v1::AuthResponse* response) {
  return RunOn(database_pool_, context, [this, request, response] {
    return ToGrpcStatus(accounts_.Refresh(*request), response);
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::Logout(
    grpc::CallbackServerContext* context, const v1::LogoutRequest* request,
    v1::LogoutResponse*) {
  return RunOn(database_pool_, context, [this, request] {
    return ToGrpcStatus(accounts_.Logout(*request));
  });
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetJwks(
    grpc::CallbackServerContext* context, const v1::GetJwksRequest*,
    v1::GetJwksResponse* response) {
  *response = accounts_.GetJwks();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetCurrentUser(
    grpc::CallbackServerContext* context, const v1::GetCurrentUserRequest*,
    v1::User*) {
  return FinishUnimplemented(context, "GetCurrentUser");
}

grpc::ServerUnaryReactor* AuthServiceImpl::UpdateProfile(
    grpc::CallbackServerContext* context, const v1::UpdateProfileRequest*,
    v1::User*) {
  return FinishUnimplemented(context, "UpdateProfile");
}

grpc::ServerUnaryReactor* AuthServiceImpl::ChangePassword(
    grpc::CallbackServerContext* context, const v1::ChangePasswordRequest*,
    v1::AuthResponse*) {
  return FinishUnimplemented(context, "ChangePassword");
}

grpc::ServerUnaryReactor* AuthServiceImpl::RequestPasswordReset(
    grpc::CallbackServerContext* context,
    const v1::RequestPasswordResetRequest*,
    v1::RequestPasswordResetResponse*) {
  return FinishUnimplemented(context, "RequestPasswordReset");
}

grpc::ServerUnaryReactor* AuthServiceImpl::ResetPassword(
    grpc::CallbackServerContext* context, const v1::ResetPasswordRequest*,
    v1::ResetPasswordResponse*) {
  return FinishUnimplemented(context, "ResetPassword");
}

grpc::ServerUnaryReactor* AuthServiceImpl::RequestEmailVerification(
    grpc::CallbackServerContext* context,
    const v1::RequestEmailVerificationRequest*,
    v1::RequestEmailVerificationResponse*) {
  return FinishUnimplemented(context, "RequestEmailVerification");
}

grpc::ServerUnaryReactor* AuthServiceImpl::VerifyEmail(
    grpc::CallbackServerContext* context, const v1::VerifyEmailRequest*,
    v1::User*) {
  return FinishUnimplemented(context, "VerifyEmail");
}

grpc::ServerUnaryReactor* AuthServiceImpl::ListUsers(
    grpc::CallbackServerContext* context, const v1::ListUsersRequest*,
    v1::ListUsersResponse*) {
  return FinishUnimplemented(context, "ListUsers");
}

grpc::ServerUnaryReactor* AuthServiceImpl::SetUserRoles(
    grpc::CallbackServerContext* context, const v1::SetUserRolesRequest*,
    v1::User*) {
  return FinishUnimplemented(context, "SetUserRoles");
}

grpc::ServerUnaryReactor* AuthServiceImpl::SetUserActive(
    grpc::CallbackServerContext* context, const v1::SetUserActiveRequest*,
    v1::User*) {
  return FinishUnimplemented(context, "SetUserActive");
}

}  // namespace tollgate::auth
