#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/mail/mail_message.h"
#include "auth_service/store/user_record.h"

namespace tollgate::auth {

enum class CodeKind { kPasswordReset, kEmailVerification };

// A freshly minted single-use code, as stored: only its SHA-256.
struct IssuedCode {
  CodeKind kind = CodeKind::kPasswordReset;
  std::string code_hash_hex;
  std::string email;  // the address it is mailed to
  int64_t expires_at = 0;
};

// Whose a live code is, found without spending it.
struct CodeHolder {
  std::string user_id;
  std::string email;
};

// Single-use codes for password reset and email verification, and the
// mail that carries them (SPEC section 5). A code is spent by deleting it,
// so however many calls race with one code, one wins.
//
// Codes: INVALID_ARGUMENT "invalid or expired code" for a code that is
// unknown, spent, voided by a newer one, expired, or of the other kind;
// UNAVAILABLE when the database is unreachable; INTERNAL otherwise.
class OneTimeCodeStore {
 public:
  virtual ~OneTimeCodeStore() = default;

  // Deletes the user's older codes of the same kind, stores `code` and
  // queues `mails` in the outbox, in one transaction.
  [[nodiscard]] virtual absl::Status IssueCode(const std::string& user_id, const IssuedCode& code,
                                               const std::vector<OutgoingMail>& mails,
                                               int64_t now) = 0;

  // The holder of a live code, without spending it (to check a new password
  // against the account before the code is spent).
  [[nodiscard]] virtual absl::StatusOr<CodeHolder> FindLiveCode(const std::string& code_hash_hex,
                                                                CodeKind kind, int64_t now) = 0;

  // Spends a reset code: sets the new hash, revokes every login session and
  // clears the account's login backoff, in one transaction.
  [[nodiscard]] virtual absl::StatusOr<UserRecord> ResetPassword(const std::string& code_hash_hex,
                                                                 const std::string& password_hash,
                                                                 int64_t now) = 0;

  // Spends a verification code and marks the account verified, if the
  // account still has the address the code was sent to (else the code is
  // spent and INVALID_ARGUMENT: a code for an old address verifies nothing).
  [[nodiscard]] virtual absl::StatusOr<UserRecord> VerifyEmail(const std::string& code_hash_hex,
                                                               int64_t now) = 0;
};

}  // namespace tollgate::auth
