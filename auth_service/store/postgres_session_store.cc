#include "auth_service/store/postgres_session_store.h"

#include <pqxx/pqxx>

#include <algorithm>

#include "auth_service/store/janitor_batches.h"
#include "auth_service/store/user_rows.h"
#include "common/logging/logger.h"
#include "common/metrics/service_metrics.h"

namespace tollgate::auth {
namespace {

absl::Status InvalidRefreshToken() { return absl::UnauthenticatedError("invalid refresh token"); }

}  // namespace

std::vector<std::pair<std::string, std::string>> PostgresSessionStore::PreparedStatements() {
  return {
      {"start_family",
       "INSERT INTO refresh_families (user_id, created_at, expires_at) VALUES ($1::uuid, $2, $3) "
       "RETURNING id::text AS id"},
      {"insert_refresh_token",
       "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) "
       "VALUES (decode($1, 'hex'), $2::uuid, $3, $4)"},
      // A whole rotation in one statement, so one round trip and no
      // BEGIN/COMMIT: the conditional UPDATE spends the token and the INSERT
      // adds its successor, atomically. Under concurrency PostgreSQL
      // re-checks `used_at IS NULL` after the winner commits, so exactly one
      // caller gets the row back; the others get no row and no successor.
      // $1 token, $2 successor (hex SHA-256), $3 now, $4 idle lifetime (s).
      // The successor expires at min(now + idle lifetime, session expiry).
      {"rotate_refresh_token",
       "WITH spent AS ("
       "  UPDATE refresh_tokens t SET used_at = $3 "
       "  FROM refresh_families f, users u "
       "  WHERE t.token_hash = decode($1, 'hex') AND t.used_at IS NULL AND t.expires_at > $3 "
       "    AND f.id = t.family_id AND f.revoked_at IS NULL AND f.expires_at > $3 "
       "    AND u.id = f.user_id AND u.is_active "
       "  RETURNING t.family_id, LEAST($3::bigint + $4::bigint, f.expires_at) AS successor_expires_at, "
       "    u.*), "
       "successor AS ("
       "  INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) "
       "  SELECT decode($2, 'hex'), family_id, $3, successor_expires_at FROM spent) "
       "SELECT * FROM spent"},
      // Why a token could not be spent: unknown, expired, revoked, or spent
      // before (then: is the successor still unused, for the grace window?).
      {"inspect_refresh_token",
       "SELECT t.used_at AS token_used_at, t.family_id::text AS family_id, "
       "  (f.revoked_at IS NULL AND f.expires_at > $3 AND u.is_active) AS session_live, "
       "  (s.token_hash IS NOT NULL AND s.used_at IS NULL AND s.expires_at > $3) AS successor_live, "
       "  s.expires_at AS successor_expires_at, u.* "
       "FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id "
       "  JOIN users u ON u.id = f.user_id "
       "  LEFT JOIN refresh_tokens s ON s.token_hash = decode($2, 'hex') "
       "WHERE t.token_hash = decode($1, 'hex')"},
      {"revoke_family",
       "UPDATE refresh_families SET revoked_at = $2 WHERE id = $1::uuid AND revoked_at IS NULL"},
      {"revoke_family_of_token",
       "UPDATE refresh_families SET revoked_at = $2 WHERE revoked_at IS NULL AND id = "
       "  (SELECT family_id FROM refresh_tokens WHERE token_hash = decode($1, 'hex'))"},
      {"revoke_user_families_of_token",
       "UPDATE refresh_families SET revoked_at = $2 WHERE revoked_at IS NULL AND user_id = "
       "  (SELECT f.user_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id "
       "   WHERE t.token_hash = decode($1, 'hex'))"},
      {"revoke_user_families",
       "UPDATE refresh_families SET revoked_at = $2 WHERE user_id = $1::uuid AND revoked_at IS NULL"},
      // One batch of the janitor: login sessions that ended (absolute
      // lifetime over, or revoked) before $1, with their tokens (cascade).
      // UNION ALL, not UNION: each side stops at the LIMIT through its
      // index, where UNION would read every ended family first; IN drops
      // the duplicates.
      {"purge_ended_sessions",
       "DELETE FROM refresh_families WHERE id IN ("
       "  SELECT id FROM refresh_families WHERE expires_at < $1 "
       "  UNION ALL SELECT id FROM refresh_families WHERE revoked_at < $1 "
       "  LIMIT $2)"},
  };
}

int64_t StartSessionIn(pqxx::transaction_base& txn, const std::string& user_id,
                       const NewSession& session, int64_t now) {
  const int64_t session_expires_at = now + session.lifetimes.session_seconds;
  const int64_t token_expires_at =
      std::min(now + session.lifetimes.idle_seconds, session_expires_at);
  const pqxx::row family = txn.exec_prepared1("start_family", user_id, now, session_expires_at);
  txn.exec_prepared("insert_refresh_token", session.refresh_token_hash_hex,
                    family["id"].as<std::string>(), now, token_expires_at);
  return token_expires_at;
}

void RevokeAllSessionsIn(pqxx::transaction_base& txn, const std::string& user_id, int64_t now) {
  txn.exec_prepared("revoke_user_families", user_id, now);
}

PostgresSessionStore::PostgresSessionStore(PostgresPool& pool, AuthServiceMetrics* metrics)
    : pool_(pool), metrics_(metrics) {}

absl::StatusOr<int64_t> PostgresSessionStore::StartSession(const std::string& user_id,
                                                           const NewSession& session, int64_t now) {
  return pool_.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    const int64_t expires_at = StartSessionIn(txn, user_id, session, now);
    txn.commit();
    return expires_at;
  });
}

absl::StatusOr<RotatedSession> PostgresSessionStore::Rotate(const std::string& token_hash_hex,
                                                            const std::string& successor_hash_hex,
                                                            int64_t now,
                                                            const RefreshLifetimes& lifetimes) {
  return pool_.Run<RotatedSession>([&](pqxx::connection& conn) -> absl::StatusOr<RotatedSession> {
    {
      // The common case: one autocommitted statement.
      pqxx::nontransaction rotation(conn);
      const pqxx::result rotated = rotation.exec_prepared(
          "rotate_refresh_token", token_hash_hex, successor_hash_hex, now, lifetimes.idle_seconds);
      if (!rotated.empty()) {
        return RotatedSession{UserFromRow(rotated[0]),
                              rotated[0]["successor_expires_at"].as<int64_t>()};
      }
    }

    pqxx::work txn(conn);
    // Not spendable. The rotation above returned nothing only after any
    // racing winner committed, so this transaction sees the winner's spend
    // and its successor row.
    const pqxx::result rows =
        txn.exec_prepared("inspect_refresh_token", token_hash_hex, successor_hash_hex, now);
    if (rows.empty()) return InvalidRefreshToken();  // never issued by us
    const pqxx::row row = rows[0];
    if (row["token_used_at"].is_null() || !row["session_live"].as<bool>()) {
      return InvalidRefreshToken();  // expired, revoked, or user deactivated
    }
    const int64_t used_at = row["token_used_at"].as<int64_t>();
    const std::string family_id = row["family_id"].as<std::string>();
    if (now - used_at <= lifetimes.grace_seconds && row["successor_live"].as<bool>()) {
      // A lost reply retried (or a racing replica): the same successor.
      RotatedSession session{UserFromRow(row), row["successor_expires_at"].as<int64_t>()};
      txn.commit();
      return session;
    }
    // Reuse of a spent token: whoever holds it may be a thief, so the whole
    // login session ends, including the legitimate newer token.
    txn.exec_prepared("revoke_family", family_id, now);
    txn.commit();
    if (metrics_ != nullptr) metrics_->refresh_reuse_detected_total.Increment();
    logging::Warn("refresh token reuse detected; session revoked", {{"family_id", family_id}});
    return InvalidRefreshToken();
  });
}

absl::Status PostgresSessionStore::RevokeSessions(const std::string& token_hash_hex,
                                                  bool all_sessions, int64_t now) {
  return pool_
      .Run<bool>([&](pqxx::connection& conn) -> absl::StatusOr<bool> {
        pqxx::work txn(conn);
        txn.exec_prepared(all_sessions ? "revoke_user_families_of_token" : "revoke_family_of_token",
                          token_hash_hex, now);
        txn.commit();
        return true;
      })
      .status();
}

absl::StatusOr<int64_t> PostgresSessionStore::PurgeEndedSessions(
    int64_t ended_before, const std::function<bool()>& keep_going, int batch_size) {
  return PurgeInBatches(pool_, batch_size, keep_going, [&](pqxx::transaction_base& txn, int limit) {
    return static_cast<int64_t>(txn.exec_prepared("purge_ended_sessions", ended_before, limit).affected_rows());
  });
}

}  // namespace tollgate::auth
