#pragma once

#include <grpcpp/grpcpp.h>

#include "auth_service/accounts/admin_service.h"
#include "auth_service/accounts/profile_service.h"
#include "auth_service/accounts/recovery_service.h"
#include "auth_service/accounts/session_service.h"
#include "auth_service/client_address.h"
#include "auth_service/password/hashing_pool.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {

// tollgate.auth.v1.AuthService on gRPC's callback API.
//
// Every handler begins with the guard (AdmissionOf), the public ones too,
// so a method that ever loses its access option in auth.proto refuses
// instead of creating accounts; the access policy of each method lives in
// auth.proto and is enforced by the call pipeline that AuthServer
// installs. Methods that hash a password (Register, Login, ChangePassword,
// ResetPassword) run on the bounded hashing pool (a full pool answers
// RESOURCE_EXHAUSTED at once); the others wait on PostgreSQL and run on the
// database pool; none blocks a gRPC thread.
class AuthServiceImpl final : public v1::AuthService::CallbackService {
 public:
  // Everything it holds must outlive the service.
  struct Dependencies {
    SessionService* sessions;
    ProfileService* profiles;
    RecoveryService* recovery;
    AdminService* admin;
    HashingPool* hashing_pool;
    HashingPool* database_pool;
    TrustedProxies trusted_proxies;  // whose x-forwarded-for names the client
  };
  explicit AuthServiceImpl(Dependencies dependencies);
  AuthServiceImpl(const AuthServiceImpl&) = delete;
  AuthServiceImpl& operator=(const AuthServiceImpl&) = delete;

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const v1::RegisterRequest* request,
                                     v1::AuthResponse* response) override;
  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const v1::LoginRequest* request,
                                  v1::AuthResponse* response) override;
  grpc::ServerUnaryReactor* Refresh(grpc::CallbackServerContext* context,
                                    const v1::RefreshRequest* request,
                                    v1::AuthResponse* response) override;
  grpc::ServerUnaryReactor* Logout(grpc::CallbackServerContext* context,
                                   const v1::LogoutRequest* request,
                                   v1::LogoutResponse* response) override;
  grpc::ServerUnaryReactor* GetJwks(grpc::CallbackServerContext* context,
                                    const v1::GetJwksRequest* request,
                                    v1::GetJwksResponse* response) override;
  grpc::ServerUnaryReactor* GetCurrentUser(
      grpc::CallbackServerContext* context,
      const v1::GetCurrentUserRequest* request, v1::User* response) override;
  grpc::ServerUnaryReactor* UpdateProfile(
      grpc::CallbackServerContext* context,
      const v1::UpdateProfileRequest* request, v1::User* response) override;
  grpc::ServerUnaryReactor* ChangePassword(
      grpc::CallbackServerContext* context,
      const v1::ChangePasswordRequest* request,
      v1::AuthResponse* response) override;
  grpc::ServerUnaryReactor* RequestPasswordReset(
      grpc::CallbackServerContext* context,
      const v1::RequestPasswordResetRequest* request,
      v1::RequestPasswordResetResponse* response) override;
  grpc::ServerUnaryReactor* ResetPassword(
      grpc::CallbackServerContext* context,
      const v1::ResetPasswordRequest* request,
      v1::ResetPasswordResponse* response) override;
  grpc::ServerUnaryReactor* RequestEmailVerification(
      grpc::CallbackServerContext* context,
      const v1::RequestEmailVerificationRequest* request,
      v1::RequestEmailVerificationResponse* response) override;
  grpc::ServerUnaryReactor* VerifyEmail(grpc::CallbackServerContext* context,
                                        const v1::VerifyEmailRequest* request,
                                        v1::User* response) override;
  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* context,
                                      const v1::ListUsersRequest* request,
                                      v1::ListUsersResponse* response) override;
  grpc::ServerUnaryReactor* SetUserRoles(
      grpc::CallbackServerContext* context,
      const v1::SetUserRolesRequest* request, v1::User* response) override;
  grpc::ServerUnaryReactor* SetUserActive(
      grpc::CallbackServerContext* context,
      const v1::SetUserActiveRequest* request, v1::User* response) override;

 private:
  Dependencies deps_;
};

}  // namespace tollgate::auth
