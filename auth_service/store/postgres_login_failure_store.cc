#include "auth_service/store/postgres_login_failure_store.h"

#include <pqxx/pqxx>

#include <algorithm>

#include "auth_service/store/janitor_batches.h"
#include "auth_service/store/user_rows.h"
#include "auth_service/tokens/opaque_token.h"

namespace tollgate::auth {
namespace {

constexpr char kAccountRow[] = "";  // the client of the account-wide row

}  // namespace

std::vector<std::pair<std::string, std::string>> PostgresLoginFailureStore::PreparedStatements() {
  return {
      {"read_login_failures",
       "SELECT client, failures, locked_until FROM login_failures "
       "WHERE account_key = decode($1, 'hex') AND client IN ($2, '')"},
      // $1 account key, $2 client, $3 now, $4 forget counts older than this.
      {"count_login_failure",
       "INSERT INTO login_failures (account_key, client, failures, locked_until, last_failure_at) "
       "VALUES (decode($1, 'hex'), $2, 1, 0, $3) "
       "ON CONFLICT (account_key, client) DO UPDATE SET "
       "  failures = CASE WHEN login_failures.last_failure_at < $4 THEN 1 "
       "                  ELSE login_failures.failures + 1 END, "
       "  last_failure_at = $3 "
       "RETURNING failures"},
      {"lock_login",
       "UPDATE login_failures SET locked_until = $3 "
       "WHERE account_key = decode($1, 'hex') AND client = $2"},
      {"forget_login_failures",
       "DELETE FROM login_failures WHERE account_key = decode($1, 'hex') AND client IN ($2, '')"},
      {"clear_account_login_failures",
       "DELETE FROM login_failures "
       "WHERE account_key = sha256(convert_to($1::text, 'UTF8'))"},
      {"purge_idle_login_failures",
       "DELETE FROM login_failures WHERE ctid IN ("
       "  SELECT ctid FROM login_failures WHERE last_failure_at < $1 AND locked_until < $2 "
       "  LIMIT $3)"},
  };
}

std::string LoginAccountKeyHex(const std::string& email_key) { return Sha256Hex(email_key); }

void ClearLoginFailuresIn(pqxx::transaction_base& txn, const std::string& email_key) {
  txn.exec_prepared("clear_account_login_failures", email_key);
}

PostgresLoginFailureStore::PostgresLoginFailureStore(PostgresPool& pool) : pool_(pool) {}

absl::StatusOr<LoginFailureState> PostgresLoginFailureStore::Read(const LoginAttemptKey& key) {
  return pool_.Run<LoginFailureState>(
      [&](pqxx::connection& conn) -> absl::StatusOr<LoginFailureState> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_prepared("read_login_failures", key.account_key_hex,
                                                    key.client_address);
        txn.commit();
        LoginFailureState state;
        for (const pqxx::row& row : rows) {
          const int failures = row["failures"].as<int>();
          if (row["client"].as<std::string>() == kAccountRow) {
            state.account_failures = failures;
          } else {
            state.client_failures = failures;
          }
          state.locked_until = std::max(state.locked_until, row["locked_until"].as<int64_t>());
        }
        return state;
      });
}

absl::StatusOr<LoginFailureState> PostgresLoginFailureStore::RecordFailure(
    const LoginAttemptKey& key, int64_t now, int64_t forget_before,
    int64_t (*client_lockout)(int failures), int64_t (*account_lockout)(int failures)) {
  return pool_.Run<LoginFailureState>(
      [&](pqxx::connection& conn) -> absl::StatusOr<LoginFailureState> {
        pqxx::work txn(conn);
        LoginFailureState state;
        const auto count = [&](const std::string& client, int64_t (*lockout)(int)) {
          const int failures =
              txn.exec_prepared1("count_login_failure", key.account_key_hex, client, now,
                                 forget_before)["failures"]
                  .as<int>();
          if (const int64_t wait = lockout(failures); wait > 0) {
            txn.exec_prepared("lock_login", key.account_key_hex, client, now + wait);
            state.locked_until = std::max(state.locked_until, now + wait);
          }
          return failures;
        };
        state.client_failures = count(key.client_address, client_lockout);
        state.account_failures = count(kAccountRow, account_lockout);
        txn.commit();
        return state;
      });
}

absl::Status PostgresLoginFailureStore::RecordSuccess(const LoginAttemptKey& key) {
  return pool_
      .Run<bool>([&](pqxx::connection& conn) -> absl::StatusOr<bool> {
        pqxx::work txn(conn);
        txn.exec_prepared("forget_login_failures", key.account_key_hex, key.client_address);
        txn.commit();
        return true;
      })
      .status();
}

absl::StatusOr<int64_t> PostgresLoginFailureStore::PurgeIdle(
    int64_t idle_before, int64_t now, const std::function<bool()>& keep_going, int batch_size) {
  return PurgeInBatches(pool_, batch_size, keep_going, [&](pqxx::transaction_base& txn, int limit) {
    return static_cast<int64_t>(txn.exec_prepared("purge_idle_login_failures", idle_before, now, limit).affected_rows());
  });
}

}  // namespace tollgate::auth
