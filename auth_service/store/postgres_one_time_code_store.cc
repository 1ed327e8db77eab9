#include "auth_service/store/postgres_one_time_code_store.h"

#include <pqxx/pqxx>

#include "auth_service/mail/outbox_store.h"
#include "auth_service/store/janitor_batches.h"
#include "auth_service/store/postgres_login_failure_store.h"
#include "auth_service/store/postgres_session_store.h"
#include "auth_service/store/user_rows.h"

namespace tollgate::auth {
namespace {

absl::Status InvalidCode() { return absl::InvalidArgumentError("invalid or expired code"); }

}  // namespace

const char* CodeKindName(CodeKind kind) {
  return kind == CodeKind::kPasswordReset ? "password_reset" : "email_verification";
}

std::vector<std::pair<std::string, std::string>> PostgresOneTimeCodeStore::PreparedStatements() {
  return {
      {"void_codes", "DELETE FROM one_time_codes WHERE user_id = $1::uuid AND kind = $2"},
      {"insert_code",
       "INSERT INTO one_time_codes (code_hash, kind, user_id, email, created_at, expires_at) "
       "VALUES (decode($1, 'hex'), $2, $3::uuid, $4, $5, $6)"},
      {"find_live_code",
       "SELECT user_id::text AS user_id, email FROM one_time_codes "
       "WHERE code_hash = decode($1, 'hex') AND kind = $2 AND expires_at > $3"},
      // Spending is one DELETE: of racing calls with one code, exactly one
      // gets the row back.
      {"spend_code",
       "DELETE FROM one_time_codes "
       "WHERE code_hash = decode($1, 'hex') AND kind = $2 AND expires_at > $3 "
       "RETURNING user_id::text AS user_id, email"},
      {"reset_password",
       "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1::uuid RETURNING *"},
      // Only while the account still has the address the code went to.
      {"mark_verified",
       "UPDATE users SET is_verified = true, updated_at = $3 "
       "WHERE id = $1::uuid AND email = $2 RETURNING *"},
      {"purge_expired_codes",
       "DELETE FROM one_time_codes WHERE code_hash IN ("
       "  SELECT code_hash FROM one_time_codes WHERE expires_at < $1 LIMIT $2)"},
  };
}

void IssueCodeIn(pqxx::transaction_base& txn, const std::string& user_id, const IssuedCode& code,
                 int64_t now) {
  // A new code voids the older ones of its kind: only the latest mail works.
  txn.exec_prepared("void_codes", user_id, CodeKindName(code.kind));
  txn.exec_prepared("insert_code", code.code_hash_hex, CodeKindName(code.kind), user_id,
                    code.email, now, code.expires_at);
}

PostgresOneTimeCodeStore::PostgresOneTimeCodeStore(PostgresPool& pool) : pool_(pool) {}

absl::Status PostgresOneTimeCodeStore::IssueCode(const std::string& user_id,
                                                 const IssuedCode& code,
                                                 const std::vector<OutgoingMail>& mails,
                                                 int64_t now) {
  return pool_
      .Run<bool>([&](pqxx::connection& conn) -> absl::StatusOr<bool> {
        pqxx::work txn(conn);
        IssueCodeIn(txn, user_id, code, now);
        for (const OutgoingMail& mail : mails) {
          if (auto queued = OutboxStore::Enqueue(txn, mail, now); !queued.ok()) {
            return queued.status();
          }
        }
        txn.commit();
        return true;
      })
      .status();
}

absl::StatusOr<CodeHolder> PostgresOneTimeCodeStore::FindLiveCode(const std::string& code_hash_hex,
                                                                  CodeKind kind, int64_t now) {
  return pool_.Run<CodeHolder>([&](pqxx::connection& conn) -> absl::StatusOr<CodeHolder> {
    pqxx::read_transaction txn(conn);
    const pqxx::result rows =
        txn.exec_prepared("find_live_code", code_hash_hex, CodeKindName(kind), now);
    txn.commit();
    if (rows.empty()) return InvalidCode();
    return CodeHolder{rows[0]["user_id"].as<std::string>(), rows[0]["email"].as<std::string>()};
  });
}

absl::StatusOr<UserRecord> PostgresOneTimeCodeStore::ResetPassword(
    const std::string& code_hash_hex, const std::string& password_hash, int64_t now) {
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    const pqxx::result spent = txn.exec_prepared(
        "spend_code", code_hash_hex, CodeKindName(CodeKind::kPasswordReset), now);
    if (spent.empty()) return InvalidCode();
    const std::string user_id = spent[0]["user_id"].as<std::string>();
    const pqxx::result users = txn.exec_prepared("reset_password", user_id, password_hash, now);
    if (users.empty()) return InvalidCode();
    const UserRecord user = UserFromRow(users[0]);
    // Whoever had the old password (or a stolen session) is out, and the
    // owner, who just proved control of the mailbox, is not throttled.
    RevokeAllSessionsIn(txn, user_id, now);
    ClearLoginFailuresIn(txn, user.email_key);
    txn.commit();
    return user;
  });
}

absl::StatusOr<UserRecord> PostgresOneTimeCodeStore::VerifyEmail(const std::string& code_hash_hex,
                                                                 int64_t now) {
  return pool_.Run<UserRecord>([&](pqxx::connection& conn) -> absl::StatusOr<UserRecord> {
    pqxx::work txn(conn);
    const pqxx::result spent = txn.exec_prepared(
        "spend_code", code_hash_hex, CodeKindName(CodeKind::kEmailVerification), now);
    if (spent.empty()) return InvalidCode();
    const pqxx::result users =
        txn.exec_prepared("mark_verified", spent[0]["user_id"].as<std::string>(),
                          spent[0]["email"].as<std::string>(), now);
    // The code is spent either way: it was for an address the account no
    // longer has.
    txn.commit();
    if (users.empty()) return InvalidCode();
    return UserFromRow(users[0]);
  });
}

absl::StatusOr<int64_t> PostgresOneTimeCodeStore::PurgeExpired(
    int64_t expired_before, const std::function<bool()>& keep_going, int batch_size) {
  return PurgeInBatches(pool_, batch_size, keep_going, [&](pqxx::transaction_base& txn, int limit) {
    return static_cast<int64_t>(
        txn.exec_prepared("purge_expired_codes", expired_before, limit).affected_rows());
  });
}

}  // namespace tollgate::auth
