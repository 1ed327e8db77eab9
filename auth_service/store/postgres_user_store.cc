#include "auth_service/store/postgres_user_store.h"

#include <pqxx/pqxx>

#include <algorithm>

#include "auth_service/mail/outbox_store.h"
#include "auth_service/store/postgres_one_time_code_store.h"
#include "auth_service/store/postgres_session_store.h"
#include "auth_service/store/user_rows.h"
#include "common/logging/logger.h"

namespace tollgate::auth {
namespace {

absl::Status UserNotFound() { return absl::NotFoundError("user not found"); }

}  // namespace

std::vector<std::pair<std::string, std::string>> PostgresUserStore::PreparedStatements() {
  return {
      {"create_user",
       "INSERT INTO users (email, email_normalized, first_name, last_name, password_hash, roles, "
       "created_at, updated_at) "
       "VALUES ($1, $2, $3, $4, $5, ARRAY(SELECT json_array_elements_text($6::json)), $7, $7) "
       "RETURNING *"},
      {"upsert_admin",
       "INSERT INTO users (email, email_normalized, first_name, last_name, password_hash, roles, "
       "created_at, updated_at) "
       "VALUES ($1, $2, $3, $4, $5, ARRAY['user', 'admin'], $6, $6) "
       "ON CONFLICT (email_normalized) DO UPDATE SET "
       "  password_hash = EXCLUDED.password_hash, is_active = true, "
       "  updated_at = EXCLUDED.updated_at, "
       "  roles = (SELECT ARRAY(SELECT DISTINCT unnest(users.roles || ARRAY['user', 'admin']) ORDER BY 1)) "
       "RETURNING *"},
      {"find_user_by_email_key", "SELECT * FROM users WHERE email_normalized = $1"},
      {"find_user_by_id", "SELECT * FROM users WHERE id = $1::uuid"},
      // Row-locked for the read-modify-write of a profile or admin change.
      {"lock_user_by_id", "SELECT * FROM users WHERE id = $1::uuid FOR UPDATE"},
      {"set_password_hash",
       "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1::uuid"},
      // $2..$4: new value or null for unchanged; an email change unverifies.
      {"update_profile",
       "UPDATE users SET first_name = COALESCE($2, first_name), "
       "  last_name = COALESCE($3, last_name), "
       "  email = COALESCE($4, email), email_normalized = COALESCE($5, email_normalized), "
       "  is_verified = CASE WHEN $5::text IS NULL THEN is_verified ELSE false END, "
       "  updated_at = $6 "
       "WHERE id = $1::uuid RETURNING *"},
      {"list_users_first",
       "SELECT * FROM users ORDER BY created_at, id LIMIT $1"},
      {"list_users_after",
       "SELECT * FROM users WHERE (created_at, id) > ($1, $2::uuid) "
       "ORDER BY created_at, id LIMIT $3"},
      {"set_user_roles",
       "UPDATE users SET roles = ARRAY(SELECT json_array_elements_text($2::json)), updated_at = $3 "
       "WHERE id = $1::uuid RETURNING *"},
      {"set_user_active",
       "UPDATE users SET is_active = $2, updated_at = $3 WHERE id = $1::uuid RETURNING *"},
      // Serializes every change that could remove the last active admin:
      // each such transaction locks all active admins' rows first, so two
      // admins demoting each other at once cannot both succeed.
      {"lock_active_admins",
       "SELECT id::text AS id FROM users WHERE is_active AND 'admin' = ANY(roles) "
       "ORDER BY id FOR UPDATE"},
      {"select_emails_for_rekey", "SELECT id::text AS id, email, email_normalized FROM users"},
      {"rekey_email",
       "UPDATE users SET email_normalized = $2 WHERE id = $1::uuid"},
      {"maintenance_done", "SELECT 1 FROM maintenance_done WHERE name = $1"},
      {"record_maintenance",
       "INSERT INTO maintenance_done (name, done_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"},
  };
}

PostgresUserStore::PostgresUserStore(PostgresPool& pool) : pool_(pool) {}

absl::StatusOr<CreatedUser> PostgresUserStore::CreateUser(const NewUser& user,
                                                          const NewSession& session, int64_t now) {
  return pool_.Run<CreatedUser>([&](pqxx::connection& conn) -> absl::StatusOr<CreatedUser> {
    pqxx::work txn(conn);
    const pqxx::row row =
        txn.exec_prepared1("create_user", user.email, user.email_key, user.first_name,
                           user.last_name, user.password_hash, TextArrayParameter(user.roles), now);
    CreatedUser created{UserFromRow(row), 0};
    created.refresh_expires_at = StartSessionIn(txn, created.user.id, session, now);
    txn.commit();
    return created;
  });
}

absl::StatusOr<UserRecord> PostgresUserStore::UpsertAdmin(const NewUser& user, int64_t now) {
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    const pqxx::row row = txn.exec_prepared1("upsert_admin", user.email, user.email_key,
                                             user.first_name, user.last_name,
                                             user.password_hash, now);
    txn.commit();
    return UserFromRow(row);
  });
}

absl::StatusOr<std::optional<UserRecord>> PostgresUserStore::FindByEmailKey(
    const std::string& email_key) {
  using Result = std::optional<UserRecord>;
  return pool_.Run<Result>([&](pqxx::connection& conn) -> absl::StatusOr<Result> {
    pqxx::read_transaction txn(conn);
    const pqxx::result rows = txn.exec_prepared("find_user_by_email_key", email_key);
    txn.commit();
    if (rows.empty()) return Result();
    return Result(UserFromRow(rows[0]));
  });
}

absl::StatusOr<UserRecord> PostgresUserStore::FindById(const std::string& user_id) {
  if (!IsCanonicalUuid(user_id)) return UserNotFound();
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::read_transaction txn(conn);
    const pqxx::result rows = txn.exec_prepared("find_user_by_id", user_id);
    txn.commit();
    if (rows.empty()) return UserNotFound();
    return UserFromRow(rows[0]);
  });
}

absl::Status PostgresUserStore::UpgradePasswordHash(const std::string& user_id,
                                                    const std::string& password_hash,
                                                    int64_t now) {
  return pool_
      .Run<bool>([&](pqxx::connection& conn) -> absl::StatusOr<bool> {
        pqxx::work txn(conn);
        txn.exec_prepared("set_password_hash", user_id, password_hash, now);
        txn.commit();
        return true;
      })
      .status();
}

absl::StatusOr<UserRecord> PostgresUserStore::UpdateProfile(const std::string& user_id,
                                                            const ProfileChange& change,
                                                            int64_t now) {
  if (!IsCanonicalUuid(user_id)) return UserNotFound();
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    const pqxx::result rows =
        txn.exec_prepared("update_profile", user_id, change.first_name, change.last_name,
                          change.email, change.email_key, now);
    if (rows.empty()) return UserNotFound();
    if (change.verification.has_value()) {
      IssueCodeIn(txn, user_id, *change.verification, now);
    }
    for (const OutgoingMail& mail : change.mails) {
      if (auto queued = OutboxStore::Enqueue(txn, mail, now); !queued.ok()) return queued.status();
    }
    txn.commit();
    return UserFromRow(rows[0]);
  });
}

absl::StatusOr<int64_t> PostgresUserStore::ChangePassword(const std::string& user_id,
                                                          const std::string& password_hash,
                                                          const NewSession& fresh, int64_t now) {
  if (!IsCanonicalUuid(user_id)) return UserNotFound();
  return pool_.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    if (txn.exec_prepared("set_password_hash", user_id, password_hash, now).affected_rows() == 0) {
      return UserNotFound();
    }
    RevokeAllSessionsIn(txn, user_id, now);
    const int64_t expires_at = StartSessionIn(txn, user_id, fresh, now);
    txn.commit();
    return expires_at;
  });
}

absl::StatusOr<std::vector<UserRecord>> PostgresUserStore::ListUsers(
    const std::optional<UserCursor>& after, int limit) {
  using Users = std::vector<UserRecord>;
  return pool_.Run<Users>([&](pqxx::connection& conn) -> absl::StatusOr<Users> {
    pqxx::read_transaction txn(conn);
    const pqxx::result rows =
        after.has_value()
            ? txn.exec_prepared("list_users_after", after->created_at, after->id, limit)
            : txn.exec_prepared("list_users_first", limit);
    txn.commit();
    Users users;
    users.reserve(rows.size());
    for (const pqxx::row& row : rows) users.push_back(UserFromRow(row));
    return users;
  });
}

namespace {

// Inside a transaction that holds the active admins' row locks: would
// `user_id` losing admin rights (demotion or deactivation) leave none?
bool IsLastActiveAdmin(const pqxx::result& active_admins, const std::string& user_id) {
  return active_admins.size() == 1 && active_admins[0]["id"].as<std::string>() == user_id;
}

}  // namespace

absl::StatusOr<UserRecord> PostgresUserStore::SetRoles(const std::string& user_id,
                                                       const std::vector<std::string>& roles,
                                                       int64_t now) {
  if (!IsCanonicalUuid(user_id)) return UserNotFound();
  const bool keeps_admin = std::find(roles.begin(), roles.end(), "admin") != roles.end();
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    const pqxx::result admins = txn.exec_prepared("lock_active_admins");
    if (!keeps_admin && IsLastActiveAdmin(admins, user_id)) {
      return absl::FailedPreconditionError(
          "roles: cannot remove the admin role from the last active admin");
    }
    const pqxx::result rows =
        txn.exec_prepared("set_user_roles", user_id, TextArrayParameter(roles), now);
    if (rows.empty()) return UserNotFound();
    txn.commit();
    return UserFromRow(rows[0]);
  });
}

absl::StatusOr<UserRecord> PostgresUserStore::SetActive(const std::string& user_id, bool active,
                                                        int64_t now) {
  if (!IsCanonicalUuid(user_id)) return UserNotFound();
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    if (!active) {
      const pqxx::result admins = txn.exec_prepared("lock_active_admins");
      if (IsLastActiveAdmin(admins, user_id)) {
        return absl::FailedPreconditionError("active: cannot deactivate the last active admin");
      }
    }
    const pqxx::result rows = txn.exec_prepared("set_user_active", user_id, active, now);
    if (rows.empty()) return UserNotFound();
    // A deactivated account keeps no session: its refresh tokens stop
    // working now, not when they expire.
    if (!active) RevokeAllSessionsIn(txn, user_id, now);
    txn.commit();
    return UserFromRow(rows[0]);
  });
}

absl::StatusOr<int64_t> PostgresUserStore::RekeyEmails(
    const std::string& rule_name,
    const std::function<std::optional<std::string>(const std::string& email)>& key_of,
    int64_t now) {
  return pool_.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    // Replicas starting together: the second waits, then finds it done.
    txn.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", rule_name);
    if (!txn.exec_prepared("maintenance_done", rule_name).empty()) return 0;
    int64_t changed = 0;
    for (const pqxx::row& row : txn.exec_prepared("select_emails_for_rekey")) {
      const std::optional<std::string> key = key_of(row["email"].as<std::string>());
      if (!key.has_value() || *key == row["email_normalized"].as<std::string>()) continue;
      // A savepoint per row, so one collision does not undo the others.
      pqxx::subtransaction rekey(txn);
      try {
        rekey.exec_prepared("rekey_email", row["id"].as<std::string>(), *key);
        rekey.commit();
        ++changed;
      } catch (const pqxx::unique_violation&) {
        logging::Warn("email key collides with another account; kept the old key",
                      {{"user_id", row["id"].as<std::string>()}, {"rule", rule_name}});
      }
    }
    txn.exec_prepared("record_maintenance", rule_name, now);
    txn.commit();
    return changed;
  });
}

}  // namespace tollgate::auth
