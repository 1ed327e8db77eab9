#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/mail/mail_message.h"
#include "auth_service/store/one_time_code_store.h"
#include "auth_service/store/user_record.h"

namespace tollgate::auth {

// A profile update: only the fields that are set change.
struct ProfileChange {
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  // A new address. With a new key too, the account becomes unverified, and
  // `verification` and `mails` are stored in the same transaction; without
  // one, only the spelling of the same address changes.
  std::optional<std::string> email;
  std::optional<std::string> email_key;
  std::optional<IssuedCode> verification;
  std::vector<OutgoingMail> mails;
};

// Accounts (table users). Every write is one transaction: nothing is half
// written on any failure.
//
// Codes: UNAVAILABLE when the database is unreachable, NOT_FOUND "user not
// found" for an unknown id, ALREADY_EXISTS for a taken email key,
// FAILED_PRECONDITION when a change would leave no active admin, INTERNAL
// otherwise.
class UserStore {
 public:
  virtual ~UserStore() = default;

  // Creates the account and starts its first login session, in one
  // transaction (Register logs the new account in).
  [[nodiscard]] virtual absl::StatusOr<CreatedUser> CreateUser(const NewUser& user,
                                                               const NewSession& session,
                                                               int64_t now) = 0;
  // Creates the account, or promotes an existing one to admin (and resets
  // its password and reactivates it), for AUTH_BOOTSTRAP_ADMIN_*.
  [[nodiscard]] virtual absl::StatusOr<UserRecord> UpsertAdmin(const NewUser& user,
                                                               int64_t now) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::optional<UserRecord>> FindByEmailKey(
      const std::string& email_key) = 0;
  [[nodiscard]] virtual absl::StatusOr<UserRecord> FindById(const std::string& user_id) = 0;

  // Replaces the hash after a login with old Argon2 parameters.
  [[nodiscard]] virtual absl::Status UpgradePasswordHash(const std::string& user_id,
                                                         const std::string& password_hash,
                                                         int64_t now) = 0;

  [[nodiscard]] virtual absl::StatusOr<UserRecord> UpdateProfile(const std::string& user_id,
                                                                 const ProfileChange& change,
                                                                 int64_t now) = 0;

  // Sets the new hash, revokes every login session of the user and starts
  // `fresh`, in one transaction. Returns the fresh token's expiry.
  [[nodiscard]] virtual absl::StatusOr<int64_t> ChangePassword(const std::string& user_id,
                                                               const std::string& password_hash,
                                                               const NewSession& fresh,
                                                               int64_t now) = 0;

  // Up to `limit` users ordered by (created_at, id), after `after`.
  [[nodiscard]] virtual absl::StatusOr<std::vector<UserRecord>> ListUsers(
      const std::optional<UserCursor>& after, int limit) = 0;

  // Replaces the roles. FAILED_PRECONDITION when it removes `admin` from the
  // last active admin.
  [[nodiscard]] virtual absl::StatusOr<UserRecord> SetRoles(const std::string& user_id,
                                                            const std::vector<std::string>& roles,
                                                            int64_t now) = 0;
  // Activates or deactivates; deactivating revokes every login session.
  // FAILED_PRECONDITION when it deactivates the last active admin.
  [[nodiscard]] virtual absl::StatusOr<UserRecord> SetActive(const std::string& user_id,
                                                             bool active, int64_t now) = 0;
};

}  // namespace tollgate::auth
