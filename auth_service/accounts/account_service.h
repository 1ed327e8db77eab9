#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "auth_service/password/password_hasher.h"
#include "auth_service/store/account_store.h"
#include "auth_service/tokens/refresh_token.h"
#include "common/clock.h"
#include "common/random_source.h"
#include "common/token/access_token_issuer.h"
#include "common/token/jwk_set.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::auth {

// The AuthService's account logic, free of gRPC plumbing: each method is
// synchronous (it may hash a password or wait for PostgreSQL), so the gRPC
// layer decides on which pool it runs. Codes follow SPEC section 3.
class AccountService final {
 public:
  struct Dependencies {
    AccountStore* store;
    const PasswordHasher* hasher;
    const AccessTokenIssuer* issuer;
    const RefreshTokenCodec* refresh_codec;
    RandomSource* random;
    const Clock* clock;
    JwkSet published_keys;  // public keys served by GetJwks
    RefreshLifetimes lifetimes;
  };
  explicit AccountService(Dependencies dependencies);

  // INVALID_ARGUMENT (field and reason), ALREADY_EXISTS, UNAVAILABLE.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> Register(const v1::RegisterRequest& request);
  // UNAUTHENTICATED "invalid email or password" for an unknown email and a
  // wrong password alike (both spend one hash); PERMISSION_DENIED "account is
  // deactivated"; RESOURCE_EXHAUSTED "retry after N s" while backed off.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> Login(const v1::LoginRequest& request);
  // UNAUTHENTICATED "invalid refresh token" for anything not honoured.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> Refresh(const v1::RefreshRequest& request);
  // Always OK for unknown tokens (RFC 7009); UNAVAILABLE without a database.
  [[nodiscard]] absl::Status Logout(const v1::LogoutRequest& request);
  v1::GetJwksResponse GetJwks() const;

  // Creates or promotes the AUTH_BOOTSTRAP_ADMIN account.
  [[nodiscard]] absl::Status BootstrapAdmin(const std::string& email, const std::string& password);

 private:
  // Mints the access token and fills the reply for a fresh refresh token.
  absl::StatusOr<v1::AuthResponse> Respond(const UserRecord& user, std::string refresh_token,
                                           int64_t refresh_expires_at, int64_t now) const;
  absl::StatusOr<v1::AuthResponse> StartSession(const UserRecord& user, int64_t now);

  Dependencies deps_;
};

// The public view of a user: never the hash or the lockout state.
void ToProto(const UserRecord& user, v1::User* out);

}  // namespace tollgate::auth
