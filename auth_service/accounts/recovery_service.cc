#include "auth_service/accounts/recovery_service.h"

#include "auth_service/accounts/account_mail.h"
#include "auth_service/accounts/email_address.h"
#include "auth_service/accounts/one_time_codes.h"
#include "auth_service/accounts/user_view.h"
#include "auth_service/password/password_policy.h"
#include "common/logging/logger.h"

namespace tollgate::auth {

RecoveryService::RecoveryService(Dependencies dependencies) : deps_(std::move(dependencies)) {}

absl::StatusOr<DeferredWork> RecoveryService::RequestPasswordReset(
    const v1::RequestPasswordResetRequest& request) {
  auto email = NormalizeEmail(request.email());
  if (!email.ok()) return email.status();
  auto found = deps_.users->FindByEmailKey(EmailKey(*email));
  if (!found.ok()) return found.status();
  // Unknown and deactivated accounts get the same OK and no mail.
  if (!found->has_value() || !(*found)->is_active) return DeferredWork();
  // Everything a known account costs more than an unknown one (the code,
  // the mail, the write) happens after the reply.
  return DeferredWork([this, user_id = (*found)->id, email = (*found)->email] {
    const int64_t now = deps_.clock->NowUnixSeconds();
    absl::Status status = [&]() -> absl::Status {
      auto code =
          MintCode(CodeKind::kPasswordReset, email, now, deps_.reset_ttl_seconds, *deps_.random);
      if (!code.ok()) return code.status();
      return deps_.codes->IssueCode(
          user_id, code->stored,
          {PasswordResetMail(email, code->code, deps_.reset_ttl_seconds, deps_.mail_link_base)},
          now);
    }();
    if (!status.ok()) {
      logging::Error("password reset not queued",
                     {{"user_id", user_id}, {"reason", std::string(status.message())}});
      return;
    }
    if (deps_.mail_queued) deps_.mail_queued();
  });
}

absl::Status RecoveryService::ResetPassword(const v1::ResetPasswordRequest& request) {
  auto code_hash = PresentedCodeHash("token", request.token(), CodeKind::kPasswordReset);
  if (!code_hash.ok()) return code_hash.status();
  const int64_t now = deps_.clock->NowUnixSeconds();
  // Look first, spend last: a new password that fails the policy must not
  // cost the user their code.
  auto holder = deps_.codes->FindLiveCode(*code_hash, CodeKind::kPasswordReset, now);
  if (!holder.ok()) return holder.status();
  if (auto status = CheckPassword(request.new_password(), holder->email); !status.ok()) {
    return absl::InvalidArgumentError("new_" + std::string(status.message()));
  }
  auto hash = deps_.hasher->Hash(request.new_password());
  if (!hash.ok()) return hash.status();
  return deps_.codes->ResetPassword(*code_hash, *hash, now).status();
}

absl::Status RecoveryService::RequestEmailVerification(const Identity& caller) {
  auto user = deps_.users->FindById(caller.subject());
  if (!user.ok()) return user.status();
  if (!user->is_active) return absl::PermissionDeniedError("account is deactivated");
  if (user->is_verified) return absl::OkStatus();
  const int64_t now = deps_.clock->NowUnixSeconds();
  auto code = MintCode(CodeKind::kEmailVerification, user->email, now, deps_.verify_ttl_seconds,
                       *deps_.random);
  if (!code.ok()) return code.status();
  const OutgoingMail mail =
      EmailVerificationMail(user->email, code->code, deps_.verify_ttl_seconds,
                            deps_.mail_link_base);
  if (auto status = deps_.codes->IssueCode(user->id, code->stored, {mail}, now); !status.ok()) {
    return status;
  }
  if (deps_.mail_queued) deps_.mail_queued();
  return absl::OkStatus();
}

absl::StatusOr<v1::User> RecoveryService::VerifyEmail(const v1::VerifyEmailRequest& request) {
  auto code_hash = PresentedCodeHash("token", request.token(), CodeKind::kEmailVerification);
  if (!code_hash.ok()) return code_hash.status();
  auto user = deps_.codes->VerifyEmail(*code_hash, deps_.clock->NowUnixSeconds());
  if (!user.ok()) return user.status();
  return ToProto(*user);
}

}  // namespace tollgate::auth
