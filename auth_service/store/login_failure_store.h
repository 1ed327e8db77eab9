#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tollgate::auth {

// Whose failures a login attempt counts against: an account key (hex
// SHA-256 of the email key, the same for an address that has no account)
// and the client's address.
struct LoginAttemptKey {
  std::string account_key_hex;
  std::string client_address;
};

// The recorded failures of one attempt key.
struct LoginFailureState {
  int client_failures = 0;   // from this address, for this account
  int account_failures = 0;  // from every address, for this account
  int64_t locked_until = 0;  // the later of the two lockouts
};

// Failed-login counters (SPEC section 5). The lockout policy itself is in
// password/login_throttle.h; this stores counts and lock times.
//
// Codes: UNAVAILABLE when the database is unreachable, INTERNAL otherwise.
class LoginFailureStore {
 public:
  virtual ~LoginFailureStore() = default;

  [[nodiscard]] virtual absl::StatusOr<LoginFailureState> Read(const LoginAttemptKey& key) = 0;

  // Counts one failure against the client row and the account row and
  // locks each as its policy says (`client_lockout` and `account_lockout`
  // map a count to seconds). A count whose last failure is older than
  // `forget_before` starts again at 1. Returns the new state.
  [[nodiscard]] virtual absl::StatusOr<LoginFailureState> RecordFailure(
      const LoginAttemptKey& key, int64_t now, int64_t forget_before,
      int64_t (*client_lockout)(int failures), int64_t (*account_lockout)(int failures)) = 0;

  // A successful login from this address forgets its client row and the
  // account-wide count.
  [[nodiscard]] virtual absl::Status RecordSuccess(const LoginAttemptKey& key) = 0;
};

}  // namespace tollgate::auth
