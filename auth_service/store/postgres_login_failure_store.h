#pragma once

#include <pqxx/transaction_base>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "auth_service/db/postgres_pool.h"
#include "auth_service/store/login_failure_store.h"

namespace tollgate::auth {

// LoginFailureStore on PostgreSQL (table login_failures). The account-wide
// row has client ''.
class PostgresLoginFailureStore final : public LoginFailureStore {
 public:
  explicit PostgresLoginFailureStore(PostgresPool& pool);

  static std::vector<std::pair<std::string, std::string>> PreparedStatements();

  absl::StatusOr<LoginFailureState> Read(const LoginAttemptKey& key) override;
  absl::StatusOr<LoginFailureState> RecordFailure(const LoginAttemptKey& key, int64_t now,
                                                  int64_t forget_before,
                                                  int64_t (*client_lockout)(int failures),
                                                  int64_t (*account_lockout)(int failures)) override;
  absl::Status RecordSuccess(const LoginAttemptKey& key) override;

  // Janitor: deletes rows whose last failure is before `idle_before` and
  // whose lock is over, in batches while `keep_going()`; one replica at a
  // time. Returns how many went.
  [[nodiscard]] absl::StatusOr<int64_t> PurgeIdle(int64_t idle_before, int64_t now,
                                                  const std::function<bool()>& keep_going,
                                                  int batch_size = 1000);

 private:
  PostgresPool& pool_;
};

// For a password reset's transaction: forgets every failure of the account
// whose email key is `email_key` (its account key is computed in SQL).
void ClearLoginFailuresIn(pqxx::transaction_base& txn, const std::string& email_key);

// The account key of an email key: hex SHA-256 of its UTF-8 bytes.
std::string LoginAccountKeyHex(const std::string& email_key);

}  // namespace tollgate::auth
