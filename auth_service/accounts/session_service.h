#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/accounts/token_pair_issuer.h"
#include "auth_service/password/password_hasher.h"
#include "auth_service/store/login_failure_store.h"
#include "auth_service/store/session_store.h"
#include "auth_service/store/user_store.h"
#include "common/clock.h"
#include "common/token/jwk_set.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate {
struct AuthServiceMetrics;
}  // namespace tollgate

namespace tollgate::auth {

// Sign-up and login sessions: Register, Login, Refresh, Logout, GetJwks.
// Free of gRPC plumbing: each method is synchronous (it may hash a password
// or wait for PostgreSQL), so the gRPC layer decides on which pool it runs.
// Codes follow SPEC section 3.
class SessionService final {
 public:
  struct Dependencies {
    UserStore* users;
    SessionStore* sessions;
    LoginFailureStore* login_failures;
    const PasswordHasher* hasher;
    const TokenPairIssuer* pairs;
    const Clock* clock;
    JwkSet published_keys;  // public keys served by GetJwks
    // Where refused credentials are counted (tollgate_login_failures_total);
    // null: nowhere.
    AuthServiceMetrics* metrics = nullptr;
  };
  explicit SessionService(Dependencies dependencies);

  // INVALID_ARGUMENT (field and reason), ALREADY_EXISTS, UNAVAILABLE.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> Register(const v1::RegisterRequest& request);
  // UNAUTHENTICATED "invalid email or password" for an unknown email and a
  // wrong password alike (both spend one hash, and both count as a login
  // failure, as does a malformed email); PERMISSION_DENIED "account
  // is deactivated"; RESOURCE_EXHAUSTED "too many failed logins: retry
  // after N s" while the email is backed off for `client_address` (or for
  // every address), whether or not it has an account.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> Login(const v1::LoginRequest& request,
                                                       const std::string& client_address);
  // UNAUTHENTICATED "invalid refresh token" for anything not honoured.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> Refresh(const v1::RefreshRequest& request);
  // Always OK for unknown tokens (RFC 7009); UNAVAILABLE without a database.
  [[nodiscard]] absl::Status Logout(const v1::LogoutRequest& request);
  v1::GetJwksResponse GetJwks() const;

  // Creates or promotes the AUTH_BOOTSTRAP_ADMIN account.
  [[nodiscard]] absl::StatusOr<UserRecord> BootstrapAdmin(const std::string& email,
                                                          const std::string& password);

 private:
  absl::StatusOr<v1::AuthResponse> StartSession(const UserRecord& user, int64_t now);
  // Counts a failed login (for the backoff and in the metrics) and answers it.
  absl::Status LoginFailed(const LoginAttemptKey& attempt, int64_t now);
  void CountLoginFailure() const;

  Dependencies deps_;
};

}  // namespace tollgate::auth
