#include "auth_service/auth_service_impl.h"

#include <string>
#include <string_view>

namespace tollgate::auth {
namespace {

grpc::ServerUnaryReactor* FinishUnimplemented(
    grpc::CallbackServerContext* context, std::string_view method) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(
      grpc::StatusCode::UNIMPLEMENTED,
      std::string("tollgate.auth.v1.AuthService/") + std::string(method) +
          " is not implemented yet"));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* AuthServiceImpl::Register(
    grpc::CallbackServerContext* context, const v1::RegisterRequest*,
    v1::AuthResponse*) {
  return FinishUnimplemented(context, "Register");
}

grpc::ServerUnaryReactor* AuthServiceImpl::Login(
    grpc::CallbackServerContext* context, const v1::LoginRequest*,
    v1::AuthResponse*) {
  return FinishUnimplemented(context, "Login");
}

grpc::ServerUnaryReactor* AuthServiceImpl::Refresh(
    grpc::CallbackServerContext* context, const v1::RefreshRequest*,
    v1::AuthResponse*) {
  return FinishUnimplemented(context, "Refresh");
}

grpc::ServerUnaryReactor* AuthServiceImpl::Logout(
    grpc::CallbackServerContext* context, const v1::LogoutRequest*,
    v1::LogoutResponse*) {
  return FinishUnimplemented(context, "Logout");
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetJwks(
    grpc::CallbackServerContext* context, const v1::GetJwksRequest*,
    v1::GetJwksResponse*) {
  return FinishUnimplemented(context, "GetJwks");
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
