#pragma once

#include <string>
#include <utility>
#include <vector>

#include "auth_service/db/postgres_pool.h"
#include "auth_service/store/user_store.h"

namespace tollgate::auth {

// UserStore on PostgreSQL (table users; a password change and a
// deactivation also end sessions in refresh_families, and an email change
// stores its verification code and mail, each in the same transaction).
class PostgresUserStore final : public UserStore {
 public:
  explicit PostgresUserStore(PostgresPool& pool);

  static std::vector<std::pair<std::string, std::string>> PreparedStatements();

  absl::StatusOr<CreatedUser> CreateUser(const NewUser& user, const NewSession& session,
                                         int64_t now) override;
  absl::StatusOr<UserRecord> UpsertAdmin(const NewUser& user, int64_t now) override;
  absl::StatusOr<std::optional<UserRecord>> FindByEmailKey(const std::string& email_key) override;
  absl::StatusOr<UserRecord> FindById(const std::string& user_id) override;
  absl::Status UpgradePasswordHash(const std::string& user_id, const std::string& password_hash,
                                   int64_t now) override;
  absl::StatusOr<UserRecord> UpdateProfile(const std::string& user_id, const ProfileChange& change,
                                           int64_t now) override;
  absl::StatusOr<int64_t> ChangePassword(const std::string& user_id,
                                         const std::string& password_hash, const NewSession& fresh,
                                         int64_t now) override;
  absl::StatusOr<std::vector<UserRecord>> ListUsers(const std::optional<UserCursor>& after,
                                                    int limit) override;
  absl::StatusOr<UserRecord> SetRoles(const std::string& user_id,
                                      const std::vector<std::string>& roles, int64_t now) override;
  absl::StatusOr<UserRecord> SetActive(const std::string& user_id, bool active,
                                       int64_t now) override;

  // Recomputes every stored email key with `key_of` once per `rule_name`
  // (recorded in maintenance_done), for a change of the key rule. An
  // account whose new key collides with another's keeps its old key and is
  // reported by id on stderr. Returns how many keys changed.
  [[nodiscard]] absl::StatusOr<int64_t> RekeyEmails(
      const std::string& rule_name,
      const std::function<std::optional<std::string>(const std::string& email)>& key_of,
      int64_t now);

 private:
  PostgresPool& pool_;
};

}  // namespace tollgate::auth
