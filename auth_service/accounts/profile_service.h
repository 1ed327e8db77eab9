#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "auth_service/accounts/token_pair_issuer.h"
#include "auth_service/password/password_hasher.h"
#include "auth_service/store/user_store.h"
#include "common/clock.h"
#include "common/random_source.h"
#include "common/token/identity.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::auth {

// The caller's own account: GetCurrentUser, UpdateProfile, ChangePassword.
// `caller` is the identity the interceptor verified; the account is its
// `sub`. Codes besides those in each comment: UNAVAILABLE (database),
// NOT_FOUND "user not found" (the account was deleted), PERMISSION_DENIED
// "account is deactivated" (a deactivated account's access token lives on
// until it expires, but it can no longer read or change the account).
class ProfileService final {
 public:
  struct Dependencies {
    UserStore* users;
    const PasswordHasher* hasher;
    const TokenPairIssuer* pairs;
    RandomSource* random;
    const Clock* clock;
    int64_t verify_ttl_seconds = 86400;  // AUTH_VERIFY_TTL
    std::string mail_link_base;          // AUTH_MAIL_LINK_BASE
    // Called after mail was queued, so the outbox sender goes at once.
    std::function<void()> mail_queued;
  };
  explicit ProfileService(Dependencies dependencies);

  [[nodiscard]] absl::StatusOr<v1::User> GetCurrentUser(const Identity& caller);

  // Changes only the fields that are set. A new email is checked like at
  // Register and must be free (ALREADY_EXISTS); the account becomes
  // unverified, a verification code goes to the new address and a notice to
  // the old one, in the same transaction. INVALID_ARGUMENT names the field.
  [[nodiscard]] absl::StatusOr<v1::User> UpdateProfile(const Identity& caller,
                                                       const v1::UpdateProfileRequest& request);

  // PERMISSION_DENIED "current_password: does not match" for a wrong
  // current password; INVALID_ARGUMENT when the new one fails the policy.
  // Revokes every login session of the user and returns a fresh pair.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> ChangePassword(
      const Identity& caller, const v1::ChangePasswordRequest& request);

 private:
  // The caller's account, if it is still active.
  absl::StatusOr<UserRecord> ActiveAccount(const Identity& caller);

  Dependencies deps_;
};

}  // namespace tollgate::auth
