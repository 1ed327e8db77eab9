#include "auth_service/store/account_store.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <iostream>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace tollgate::auth {
namespace {

// The user columns, in the order RowToUser reads them.
#define TOLLGATE_USER_COLUMNS(u)                                                            \
  u "id::text, " u "email, " u "first_name, " u "last_name, " u "password_hash, "          \
  "array_to_json(" u "roles)::text, " u "is_active, " u "is_verified, " u "failed_logins, " \
  u "locked_until, " u "created_at, " u "updated_at"

UserRecord RowToUser(const pqxx::row& row, int first = 0) {
  UserRecord user;
  user.id = row[first + 0].as<std::string>();
  user.email = row[first + 1].as<std::string>();
  user.first_name = row[first + 2].as<std::string>();
  user.last_name = row[first + 3].as<std::string>();
  user.password_hash = row[first + 4].as<std::string>();
  for (const auto& role : nlohmann::json::parse(row[first + 5].as<std::string>())) {
    user.roles.push_back(role.get<std::string>());
  }
  user.is_active = row[first + 6].as<bool>();
  user.is_verified = row[first + 7].as<bool>();
  user.failed_logins = row[first + 8].as<int>();
  user.locked_until = row[first + 9].as<int64_t>();
  user.created_at = row[first + 10].as<int64_t>();
  user.updated_at = row[first + 11].as<int64_t>();
  return user;
}

std::string RolesJson(const std::vector<std::string>& roles) { return nlohmann::json(roles).dump(); }

absl::Status InvalidRefreshToken() { return absl::UnauthenticatedError("invalid refresh token"); }

}  // namespace

std::vector<std::pair<std::string, std::string>> AccountStore::PreparedStatements() {
  return {
      {"create_user",
       "INSERT INTO users (email, email_normalized, first_name, last_name, password_hash, roles, "
       "created_at, updated_at) "
       "VALUES ($1, $2, $3, $4, $5, ARRAY(SELECT json_array_elements_text($6::json)), $7, $7) "
       "RETURNING " TOLLGATE_USER_COLUMNS("")},
      {"upsert_admin",
       "INSERT INTO users (email, email_normalized, first_name, last_name, password_hash, roles, "
       "created_at, updated_at) "
       "VALUES ($1, $2, $3, $4, $5, ARRAY['user', 'admin'], $6, $6) "
       "ON CONFLICT (email_normalized) DO UPDATE SET "
       "  password_hash = EXCLUDED.password_hash, is_active = true, failed_logins = 0, "
       "  locked_until = 0, updated_at = EXCLUDED.updated_at, "
       "  roles = (SELECT ARRAY(SELECT DISTINCT unnest(users.roles || ARRAY['user', 'admin']) ORDER BY 1)) "
       "RETURNING " TOLLGATE_USER_COLUMNS("")},
      {"find_user_by_email_key",
       "SELECT " TOLLGATE_USER_COLUMNS("") " FROM users WHERE email_normalized = $1"},
      {"count_login_failure",
       "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1::uuid "
       "RETURNING failed_logins"},
      {"lock_user", "UPDATE users SET locked_until = $2 WHERE id = $1::uuid"},
      {"record_login_success",
       "UPDATE users SET failed_logins = 0, locked_until = 0, "
       "  password_hash = CASE WHEN $2 THEN $3 ELSE password_hash END, "
       "  updated_at = CASE WHEN $2 THEN $4 ELSE updated_at END "
       "WHERE id = $1::uuid"},
      {"start_family",
       "INSERT INTO refresh_families (user_id, created_at, expires_at) VALUES ($1::uuid, $2, $3) "
       "RETURNING id::text"},
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
       "SELECT successor_expires_at, " TOLLGATE_USER_COLUMNS("") " FROM spent"},
      // Why a token could not be spent: unknown, expired, revoked, or spent
      // before (then: is the successor still unused, for the grace window?).
      {"inspect_refresh_token",
       "SELECT t.used_at, t.family_id::text, "
       "  (f.revoked_at IS NULL AND f.expires_at > $3 AND u.is_active) AS session_live, "
       "  (s.token_hash IS NOT NULL AND s.used_at IS NULL AND s.expires_at > $3) AS successor_live, "
       "  s.expires_at, " TOLLGATE_USER_COLUMNS("u.") " "
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
      // One janitor at a time across replicas (two would contend for the
      // same rows). $1: kSessionJanitorLockKey.
      {"try_janitor_lock", "SELECT pg_try_advisory_xact_lock($1::bigint)"},
      {"insert_shared_secret",
       "INSERT INTO server_secrets (name, value) VALUES ($1, decode($2, 'hex')) "
       "ON CONFLICT (name) DO NOTHING"},
      {"select_shared_secret", "SELECT encode(value, 'hex') FROM server_secrets WHERE name = $1"},
  };
}

AccountStore::AccountStore(PostgresPool& pool) : pool_(pool) {}

absl::StatusOr<UserRecord> AccountStore::CreateUser(const NewUser& user, int64_t now) {
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    const pqxx::result rows =
        txn.exec_prepared("create_user", user.email, user.email_key, user.first_name,
                          user.last_name, user.password_hash, RolesJson(user.roles), now);
    txn.commit();
    return RowToUser(rows[0]);
  });
}

absl::StatusOr<UserRecord> AccountStore::UpsertAdmin(const NewUser& user, int64_t now) {
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    const pqxx::result rows = txn.exec_prepared("upsert_admin", user.email, user.email_key,
                                                user.first_name, user.last_name,
                                                user.password_hash, now);
    txn.commit();
    return RowToUser(rows[0]);
  });
}

absl::StatusOr<std::optional<UserRecord>> AccountStore::FindUserByEmailKey(
    const std::string& email_key) {
  using Result = std::optional<UserRecord>;
  return pool_.Run<Result>([&](pqxx::connection& conn) -> absl::StatusOr<Result> {
    pqxx::read_transaction txn(conn);
    const pqxx::result rows = txn.exec_prepared("find_user_by_email_key", email_key);
    txn.commit();
    if (rows.empty()) return Result();
    return Result(RowToUser(rows[0]));
  });
}

absl::StatusOr<int> AccountStore::RecordLoginFailure(const std::string& user_id, int64_t now,
                                                     int64_t (*lockout_for)(int failures)) {
  return pool_.Run<int>([&](pqxx::connection& conn) -> absl::StatusOr<int> {
    pqxx::work txn(conn);
    const pqxx::result rows = txn.exec_prepared("count_login_failure", user_id);
    if (rows.empty()) return absl::NotFoundError("user not found");
    const int failures = rows[0][0].as<int>();
    if (const int64_t wait = lockout_for(failures); wait > 0) {
      txn.exec_prepared("lock_user", user_id, now + wait);
    }
    txn.commit();
    return failures;
  });
}

absl::Status AccountStore::RecordLoginSuccess(const std::string& user_id,
                                              const std::optional<std::string>& upgraded_hash,
                                              int64_t now) {
  return pool_
      .Run<bool>([&](pqxx::connection& conn) -> absl::StatusOr<bool> {
        pqxx::work txn(conn);
        txn.exec_prepared("record_login_success", user_id, upgraded_hash.has_value(),
                          upgraded_hash.value_or(""), now);
        txn.commit();
        return true;
      })
      .status();
}

absl::StatusOr<int64_t> AccountStore::StartSession(const std::string& user_id,
                                                   const std::string& token_hash_hex, int64_t now,
                                                   const RefreshLifetimes& lifetimes) {
  return pool_.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    const int64_t session_expires_at = now + lifetimes.session_seconds;
    const int64_t token_expires_at = std::min(now + lifetimes.idle_seconds, session_expires_at);
    const pqxx::result family =
        txn.exec_prepared("start_family", user_id, now, session_expires_at);
    txn.exec_prepared("insert_refresh_token", token_hash_hex, family[0][0].as<std::string>(), now,
                      token_expires_at);
    txn.commit();
    return token_expires_at;
  });
}

absl::StatusOr<RotatedSession> AccountStore::Rotate(const std::string& token_hash_hex,
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
        RotatedSession session;
        session.refresh_expires_at = rotated[0][0].as<int64_t>();
        session.user = RowToUser(rotated[0], 1);
        return session;
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
    if (row[0].is_null() || !row[2].as<bool>()) {
      return InvalidRefreshToken();  // expired, revoked, or user deactivated
    }
    const int64_t used_at = row[0].as<int64_t>();
    const std::string family_id = row[1].as<std::string>();
    if (now - used_at <= lifetimes.grace_seconds && row[3].as<bool>()) {
      // A lost reply retried (or a racing replica): the same successor.
      RotatedSession session;
      session.refresh_expires_at = row[4].as<int64_t>();
      session.user = RowToUser(row, 5);
      txn.commit();
      return session;
    }
    // Reuse of a spent token: whoever holds it may be a thief, so the whole
    // login session ends, including the legitimate newer token.
    txn.exec_prepared("revoke_family", family_id, now);
    txn.commit();
    std::cerr << "auth: refresh token reuse detected; revoked session family " << family_id << "\n";
    return InvalidRefreshToken();
  });
}

absl::Status AccountStore::RevokeSessions(const std::string& token_hash_hex, bool all_sessions,
                                          int64_t now) {
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

absl::StatusOr<int64_t> AccountStore::PurgeEndedSessions(int64_t ended_before,
                                                          const std::function<bool()>& keep_going,
                                                          int batch_size) {
  batch_size = std::max(batch_size, 1);
  constexpr int64_t kLockHeldElsewhere = -1;
  int64_t purged = 0;
  while (keep_going()) {
    // One short transaction per batch. It locks the batch's families and
    // all their tokens, so batches stay small rather than one long DELETE.
    absl::StatusOr<int64_t> batch =
        pool_.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
          pqxx::work txn(conn);
          if (!txn.exec_prepared1("try_janitor_lock", kSessionJanitorLockKey)[0].as<bool>()) {
            return kLockHeldElsewhere;
          }
          const int64_t deleted = static_cast<int64_t>(
              txn.exec_prepared("purge_ended_sessions", ended_before, batch_size).affected_rows());
          txn.commit();
          return deleted;
        });
    if (!batch.ok()) return batch.status();
    if (*batch == kLockHeldElsewhere) break;  // another replica is purging
    purged += *batch;
    if (*batch < batch_size) break;
  }
  return purged;
}

absl::StatusOr<std::string> AccountStore::SharedSecret(const std::string& name,
                                                       const std::string& candidate_hex) {
  return pool_.Run<std::string>([&](pqxx::connection& conn) -> absl::StatusOr<std::string> {
    pqxx::work txn(conn);
    txn.exec_prepared("insert_shared_secret", name, candidate_hex);
    const pqxx::result rows = txn.exec_prepared("select_shared_secret", name);
    txn.commit();
    return rows[0][0].as<std::string>();
  });
}

}  // namespace tollgate::auth
