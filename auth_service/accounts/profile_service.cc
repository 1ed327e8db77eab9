#include "auth_service/accounts/profile_service.h"

#include "auth_service/accounts/account_mail.h"
#include "auth_service/accounts/email_address.h"
#include "auth_service/accounts/one_time_codes.h"
#include "auth_service/accounts/person_name.h"
#include "auth_service/accounts/unicode_text.h"
#include "auth_service/accounts/user_view.h"
#include "auth_service/password/password_policy.h"

namespace tollgate::auth {

ProfileService::ProfileService(Dependencies dependencies) : deps_(std::move(dependencies)) {}

absl::StatusOr<UserRecord> ProfileService::ActiveAccount(const Identity& caller) {
  auto user = deps_.users->FindById(caller.subject());
  if (!user.ok()) return user.status();
  if (!user->is_active) return absl::PermissionDeniedError("account is deactivated");
  return user;
}

absl::StatusOr<v1::User> ProfileService::GetCurrentUser(const Identity& caller) {
  auto user = ActiveAccount(caller);
  if (!user.ok()) return user.status();
  return ToProto(*user);
}

absl::StatusOr<v1::User> ProfileService::UpdateProfile(const Identity& caller,
                                                       const v1::UpdateProfileRequest& request) {
  // Every field is checked before anything is read or written.
  ProfileChange change;
  if (request.has_first_name()) {
    if (auto status = CheckName("first_name", request.first_name()); !status.ok()) return status;
    change.first_name = std::string(TrimWhitespace(request.first_name()));
  }
  if (request.has_last_name()) {
    if (auto status = CheckName("last_name", request.last_name()); !status.ok()) return status;
    change.last_name = std::string(TrimWhitespace(request.last_name()));
  }
  std::optional<std::string> new_email;
  if (request.has_email()) {
    auto email = NormalizeEmail(request.email());
    if (!email.ok()) return email.status();
    new_email = *std::move(email);
  }

  auto user = ActiveAccount(caller);
  if (!user.ok()) return user.status();
  const int64_t now = deps_.clock->NowUnixSeconds();
  if (new_email.has_value() && *new_email != user->email &&
      EmailKey(*new_email) == user->email_key) {
    // The same address written differently ("Ada@" for "ada@"): the mailbox
    // is the one already verified, so only the spelling changes.
    change.email = *new_email;
  } else if (new_email.has_value() && *new_email != user->email) {
    auto code = MintCode(CodeKind::kEmailVerification, *new_email, now,
                         deps_.verify_ttl_seconds, *deps_.random);
    if (!code.ok()) return code.status();
    change.email = *new_email;
    change.email_key = EmailKey(*new_email);
    change.verification = code->stored;
    change.mails = {EmailVerificationMail(*new_email, code->code, deps_.verify_ttl_seconds,
                                          deps_.mail_link_base),
                    EmailChangedNotice(user->email, *new_email)};
  }
  auto updated = deps_.users->UpdateProfile(user->id, change, now);
  if (updated.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError("email: an account with this email already exists");
  }
  if (!updated.ok()) return updated.status();
  if (!change.mails.empty() && deps_.mail_queued) deps_.mail_queued();
  return ToProto(*updated);
}

absl::StatusOr<v1::AuthResponse> ProfileService::ChangePassword(
    const Identity& caller, const v1::ChangePasswordRequest& request) {
  auto user = ActiveAccount(caller);
  if (!user.ok()) return user.status();
  auto matches = deps_.hasher->Verify(request.current_password(), user->password_hash);
  if (!matches.ok()) return matches.status();
  // A stolen access token alone must not be enough to take the account.
  if (!*matches) return absl::PermissionDeniedError("current_password: does not match");
  if (auto status = CheckPassword(request.new_password(), user->email); !status.ok()) {
    return absl::InvalidArgumentError("new_" + std::string(status.message()));
  }
  auto hash = deps_.hasher->Hash(request.new_password());
  if (!hash.ok()) return hash.status();
  auto fresh = deps_.pairs->NewRefreshToken();
  if (!fresh.ok()) return fresh.status();
  const int64_t now = deps_.clock->NowUnixSeconds();
  auto expires_at = deps_.users->ChangePassword(user->id, *hash, fresh->session, now);
  if (!expires_at.ok()) return expires_at.status();
  user->password_hash = *std::move(hash);
  user->updated_at = now;
  return deps_.pairs->Respond(*user, std::move(fresh->token), *expires_at, now);
}

}  // namespace tollgate::auth
