#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "auth_service/db/postgres_pool.h"

namespace tollgate::auth {

// One row of `users`, as the service sees it. Never sent to a client as is:
// the password hash stays on the server.
struct UserRecord {
  std::string id;
  std::string email;
  std::string first_name;
  std::string last_name;
  std::string password_hash;
  std::vector<std::string> roles;
  bool is_active = true;
  bool is_verified = false;
  int failed_logins = 0;
  int64_t locked_until = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct NewUser {
  std::string email;      // trimmed, as entered
  std::string email_key;  // lower-cased: the unique lookup key
  std::string first_name;
  std::string last_name;
  std::string password_hash;
  std::vector<std::string> roles;
};

// Lifetimes applied to refresh tokens, in seconds.
struct RefreshLifetimes {
  int64_t idle_seconds = 604800;
  int64_t session_seconds = 2592000;
  int64_t grace_seconds = 10;
};

// What a successful Refresh yields: the user (for the new access token and
// the reply) and when the successor expires.
struct RotatedSession {
  UserRecord user;
  int64_t refresh_expires_at = 0;
};

// The advisory lock that lets one session janitor purge at a time across
// replicas: "tgjanitr" in ASCII, apart from the migrations' lock.
inline constexpr int64_t kSessionJanitorLockKey = 0x74676a616e697472;

// Every PostgreSQL statement of the AuthService, all prepared and all with
// $n parameters. Time is always passed in (the service's Clock), never taken
// from SQL now(), so lifetimes are testable without sleeping.
//
// Codes: UNAVAILABLE when the database is unreachable (from the pool),
// ALREADY_EXISTS for a taken email, UNAUTHENTICATED "invalid refresh token"
// for every refresh token that must not be honoured, INTERNAL otherwise.
class AccountStore final {
 public:
  explicit AccountStore(PostgresPool& pool);

  // The statements to prepare on every pooled connection.
  static std::vector<std::pair<std::string, std::string>> PreparedStatements();

  [[nodiscard]] absl::StatusOr<UserRecord> CreateUser(const NewUser& user, int64_t now);
  // Creates the account, or promotes an existing one to admin (and resets its
  // password and reactivates it) for AUTH_BOOTSTRAP_ADMIN_*.
  [[nodiscard]] absl::StatusOr<UserRecord> UpsertAdmin(const NewUser& user, int64_t now);
  [[nodiscard]] absl::StatusOr<std::optional<UserRecord>> FindUserByEmailKey(const std::string& email_key);

  // Counts a failed login; returns the new count of consecutive failures.
  // `lockout_for` maps that count to the wait imposed (0: none).
  [[nodiscard]] absl::StatusOr<int> RecordLoginFailure(const std::string& user_id, int64_t now,
                                                       int64_t (*lockout_for)(int failures));
  // Resets the failure count; replaces the hash when `upgraded_hash` is set.
  [[nodiscard]] absl::Status RecordLoginSuccess(const std::string& user_id,
                                                const std::optional<std::string>& upgraded_hash,
                                                int64_t now);

  // Starts a login session (a refresh family) with its first token. Returns
  // the token's expiry.
  [[nodiscard]] absl::StatusOr<int64_t> StartSession(const std::string& user_id,
                                                     const std::string& token_hash_hex, int64_t now,
                                                     const RefreshLifetimes& lifetimes);

  // Spends `token_hash_hex` and records `successor_hash_hex` in one
  // statement, exactly once however many callers race (a conditional
  // UPDATE and the INSERT of the successor in one CTE). A caller that lost
  // the race, or retries within the grace window while the successor is
  // unused, gets the same session back (the caller then returns the same
  // successor it derived). A spent token past that is reuse: the whole
  // family is revoked.
  [[nodiscard]] absl::StatusOr<RotatedSession> Rotate(const std::string& token_hash_hex,
                                                      const std::string& successor_hash_hex,
                                                      int64_t now, const RefreshLifetimes& lifetimes);

  // Revokes the token's family, or every family of its user. OK for unknown
  // tokens (RFC 7009).
  [[nodiscard]] absl::Status RevokeSessions(const std::string& token_hash_hex, bool all_sessions,
                                            int64_t now);

  // Deletes the login sessions (refresh families, with their tokens) that
  // ended before `ended_before`: past their absolute lifetime, or revoked.
  // Works in batches of `batch_size` families, one transaction each, while
  // `keep_going()` says so; returns how many went. Only one replica purges
  // at a time (an advisory lock): the others return 0 at once. A session
  // that ended by idle expiry goes once its absolute lifetime is over. Live
  // sessions keep their spent tokens: reuse detection needs them.
  [[nodiscard]] absl::StatusOr<int64_t> PurgeEndedSessions(int64_t ended_before,
                                                           const std::function<bool()>& keep_going,
                                                           int batch_size = 1000);

  // A secret shared by every replica: created once with `candidate_hex` (first
  // writer wins), then read back by everybody.
  [[nodiscard]] absl::StatusOr<std::string> SharedSecret(const std::string& name,
                                                         const std::string& candidate_hex);

 private:
  PostgresPool& pool_;
};

}  // namespace tollgate::auth
