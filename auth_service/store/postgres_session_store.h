#pragma once

#include <pqxx/transaction_base>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "auth_service/db/postgres_pool.h"
#include "auth_service/store/session_store.h"

namespace tollgate {
struct AuthServiceMetrics;
}  // namespace tollgate

namespace tollgate::auth {

// SessionStore on PostgreSQL (tables refresh_families and refresh_tokens).
// Every statement is prepared and takes $n parameters; time is always
// passed in (the service's Clock), never taken from SQL now(), so lifetimes
// are testable without sleeping. With `metrics`, a detected reuse (the
// family revoked) is counted in tollgate_refresh_reuse_detected_total once
// its revocation committed; a token of a family already revoked is not a
// new detection.
class PostgresSessionStore final : public SessionStore {
 public:
  // `pool` and `metrics` (may be null) must outlive the store.
  explicit PostgresSessionStore(PostgresPool& pool, AuthServiceMetrics* metrics = nullptr);

  // The statements to prepare on every pooled connection.
  static std::vector<std::pair<std::string, std::string>> PreparedStatements();

  absl::StatusOr<int64_t> StartSession(const std::string& user_id, const NewSession& session,
                                       int64_t now) override;
  absl::StatusOr<RotatedSession> Rotate(const std::string& token_hash_hex,
                                        const std::string& successor_hash_hex, int64_t now,
                                        const RefreshLifetimes& lifetimes) override;
  absl::Status RevokeSessions(const std::string& token_hash_hex, bool all_sessions,
                              int64_t now) override;

  // Deletes the login sessions (refresh families, with their tokens) that
  // ended before `ended_before`: past their absolute lifetime, or revoked.
  // Works in batches of `batch_size` families, one transaction each, while
  // `keep_going()` says so; returns how many went. Only one replica purges
  // at a time (the janitor lock): the others return 0 at once. A session
  // that ended by idle expiry goes once its absolute lifetime is over. Live
  // sessions keep their spent tokens: reuse detection needs them.
  [[nodiscard]] absl::StatusOr<int64_t> PurgeEndedSessions(int64_t ended_before,
                                                           const std::function<bool()>& keep_going,
                                                           int batch_size = 1000);

 private:
  PostgresPool& pool_;
  AuthServiceMetrics* const metrics_;
};

// For other stores' transactions (a password change starts its fresh
// session in the same transaction that revoked the others).
// Starts a family with its first token; returns the token's expiry.
int64_t StartSessionIn(pqxx::transaction_base& txn, const std::string& user_id,
                       const NewSession& session, int64_t now);
// Revokes every live family of the user.
void RevokeAllSessionsIn(pqxx::transaction_base& txn, const std::string& user_id, int64_t now);

}  // namespace tollgate::auth
