#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "auth_service/password/password_hasher.h"
#include "auth_service/store/one_time_code_store.h"
#include "auth_service/store/user_store.h"
#include "common/clock.h"
#include "common/random_source.h"
#include "common/token/identity.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::auth {

// Work that must happen after the reply is sent (see RequestPasswordReset).
using DeferredWork = std::function<void()>;

// Password reset and email verification by single-use codes sent as mail
// (SPEC section 5). Codes are "tgp_..." and "tge_..."; only their SHA-256
// is stored; a new code voids the older one of its kind. Every unknown,
// spent, voided or expired code is INVALID_ARGUMENT "invalid or expired
// code"; a code of the wrong shape is INVALID_ARGUMENT naming the field.
class RecoveryService final {
 public:
  struct Dependencies {
    UserStore* users;
    OneTimeCodeStore* codes;
    const PasswordHasher* hasher;
    RandomSource* random;
    const Clock* clock;
    int64_t reset_ttl_seconds = 1800;    // AUTH_RESET_TTL
    int64_t verify_ttl_seconds = 86400;  // AUTH_VERIFY_TTL
    std::string mail_link_base;          // AUTH_MAIL_LINK_BASE
    // Called after mail was queued, so the outbox sender goes at once.
    std::function<void()> mail_queued;
  };
  explicit RecoveryService(Dependencies dependencies);

  // OK for every well-formed email, known or not (INVALID_ARGUMENT for a
  // malformed one; UNAVAILABLE when the account cannot be looked up). Mail
  // goes only to a known, active account. The reply must not take longer
  // for a known account, so the code and its mail are written by the
  // returned DeferredWork, which the caller runs after replying; it is
  // empty when there is nothing to write. A failure there is logged.
  [[nodiscard]] absl::StatusOr<DeferredWork> RequestPasswordReset(
      const v1::RequestPasswordResetRequest& request);

  // Sets the new password (INVALID_ARGUMENT "new_password: ..." when it
  // fails the policy, and the code stays valid), revokes every login
  // session and clears the login backoff.
  [[nodiscard]] absl::Status ResetPassword(const v1::ResetPasswordRequest& request);

  // Mails a code to the caller's own address; OK and no mail when it is
  // already verified. PERMISSION_DENIED "account is deactivated".
  [[nodiscard]] absl::Status RequestEmailVerification(const Identity& caller);

  // Marks the address the code was sent to as verified.
  [[nodiscard]] absl::StatusOr<v1::User> VerifyEmail(const v1::VerifyEmailRequest& request);

 private:
  Dependencies deps_;
};

}  // namespace tollgate::auth
