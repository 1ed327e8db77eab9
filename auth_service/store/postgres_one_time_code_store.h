#pragma once

#include <pqxx/transaction_base>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "auth_service/db/postgres_pool.h"
#include "auth_service/store/one_time_code_store.h"

namespace tollgate::auth {

// OneTimeCodeStore on PostgreSQL (table one_time_codes; mail goes to the
// outbox in the same transaction).
class PostgresOneTimeCodeStore final : public OneTimeCodeStore {
 public:
  explicit PostgresOneTimeCodeStore(PostgresPool& pool);

  static std::vector<std::pair<std::string, std::string>> PreparedStatements();

  absl::Status IssueCode(const std::string& user_id, const IssuedCode& code,
                         const std::vector<OutgoingMail>& mails, int64_t now) override;
  absl::StatusOr<CodeHolder> FindLiveCode(const std::string& code_hash_hex, CodeKind kind,
                                          int64_t now) override;
  absl::StatusOr<UserRecord> ResetPassword(const std::string& code_hash_hex,
                                           const std::string& password_hash, int64_t now) override;
  absl::StatusOr<UserRecord> VerifyEmail(const std::string& code_hash_hex, int64_t now) override;

  // Janitor: deletes codes that expired before `expired_before`, in
  // batches while `keep_going()`; one replica at a time.
  [[nodiscard]] absl::StatusOr<int64_t> PurgeExpired(int64_t expired_before,
                                                     const std::function<bool()>& keep_going,
                                                     int batch_size = 1000);

 private:
  PostgresPool& pool_;
};

// For another store's transaction (an email change issues its verification
// code with the profile update): voids the user's older codes of the kind
// and stores `code`.
void IssueCodeIn(pqxx::transaction_base& txn, const std::string& user_id, const IssuedCode& code,
                 int64_t now);

// "password_reset" or "email_verification", as stored.
const char* CodeKindName(CodeKind kind);

}  // namespace tollgate::auth
