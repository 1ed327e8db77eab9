#include "auth_service/accounts/session_service.h"

#include <iostream>

#include "auth_service/accounts/email_address.h"
#include "auth_service/accounts/person_name.h"
#include "auth_service/accounts/unicode_text.h"
#include "auth_service/password/login_throttle.h"
#include "auth_service/password/password_policy.h"
#include "auth_service/store/postgres_login_failure_store.h"
#include "common/metrics/service_metrics.h"

namespace tollgate::auth {
namespace {

constexpr char kBadCredentials[] = "invalid email or password";

absl::Status RetryAfter(int64_t seconds) {
  return absl::ResourceExhaustedError("too many failed logins: retry after " +
                                      std::to_string(seconds) + " s");
}

}  // namespace

SessionService::SessionService(Dependencies dependencies) : deps_(std::move(dependencies)) {}

absl::StatusOr<v1::AuthResponse> SessionService::StartSession(const UserRecord& user, int64_t now) {
  auto fresh = deps_.pairs->NewRefreshToken();
  if (!fresh.ok()) return fresh.status();
  auto expires_at = deps_.sessions->StartSession(user.id, fresh->session, now);
  if (!expires_at.ok()) return expires_at.status();
  return deps_.pairs->Respond(user, std::move(fresh->token), *expires_at, now);
}

absl::StatusOr<v1::AuthResponse> SessionService::Register(const v1::RegisterRequest& request) {
  auto email = NormalizeEmail(request.email());
  if (!email.ok()) return email.status();
  if (auto status = CheckName("first_name", request.first_name()); !status.ok()) return status;
  if (auto status = CheckName("last_name", request.last_name()); !status.ok()) return status;
  if (auto status = CheckPassword(request.password(), *email); !status.ok()) return status;

  auto hash = deps_.hasher->Hash(request.password());
  if (!hash.ok()) return hash.status();
  NewUser user{*email,
               EmailKey(*email),
               std::string(TrimWhitespace(request.first_name())),
               std::string(TrimWhitespace(request.last_name())),
               *std::move(hash),
               {"user"}};
  auto fresh = deps_.pairs->NewRefreshToken();
  if (!fresh.ok()) return fresh.status();
  const int64_t now = deps_.clock->NowUnixSeconds();
  auto created = deps_.users->CreateUser(user, fresh->session, now);
  if (created.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError("email: an account with this email already exists");
  }
  if (!created.ok()) return created.status();
  return deps_.pairs->Respond(created->user, std::move(fresh->token), created->refresh_expires_at,
                              now);
}

void SessionService::CountLoginFailure() const {
  if (deps_.metrics != nullptr) deps_.metrics->login_failures_total.Increment();
}

absl::Status SessionService::LoginFailed(const LoginAttemptKey& attempt, int64_t now) {
  CountLoginFailure();
  auto state = deps_.login_failures->RecordFailure(attempt, now, now - kFailureMemorySeconds,
                                                   &LockoutSeconds, &AccountLockoutSeconds);
  if (!state.ok()) return state.status();
  return absl::UnauthenticatedError(kBadCredentials);
}

absl::StatusOr<v1::AuthResponse> SessionService::Login(const v1::LoginRequest& request,
                                                       const std::string& client_address) {
  auto email = NormalizeEmail(request.email());
  if (!email.ok()) {
    // Same answer as an unknown account, after the same work.
    deps_.hasher->SpendOneHash(request.password());
    CountLoginFailure();
    return absl::UnauthenticatedError(kBadCredentials);
  }
  const std::string email_key = EmailKey(*email);
  // Keyed by the email, not the account: an email without an account is
  // counted and backed off exactly like one with, so neither the code nor
  // the count tells which emails exist.
  const LoginAttemptKey attempt{LoginAccountKeyHex(email_key), client_address};
  const int64_t now = deps_.clock->NowUnixSeconds();
  auto failures = deps_.login_failures->Read(attempt);
  if (!failures.ok()) return failures.status();
  if (failures->locked_until > now) return RetryAfter(failures->locked_until - now);

  auto found = deps_.users->FindByEmailKey(email_key);
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    // Spend one hash anyway so timing does not tell which emails exist.
    deps_.hasher->SpendOneHash(request.password());
    return LoginFailed(attempt, now);
  }
  const UserRecord& user = **found;
  auto matches = deps_.hasher->Verify(request.password(), user.password_hash);
  if (!matches.ok()) return matches.status();
  if (!*matches) return LoginFailed(attempt, now);
  if (!user.is_active) return absl::PermissionDeniedError("account is deactivated");

  // Only write when there is something to forget: most logins have no
  // failures, and the write bought nothing.
  if (failures->client_failures != 0 || failures->account_failures != 0) {
    if (auto status = deps_.login_failures->RecordSuccess(attempt); !status.ok()) return status;
  }
  if (deps_.hasher->NeedsRehash(user.password_hash)) {
    auto rehashed = deps_.hasher->Hash(request.password());
    // A failed upgrade is retried at the next login.
    if (rehashed.ok()) {
      if (auto status = deps_.users->UpgradePasswordHash(user.id, *rehashed, now); !status.ok()) {
        return status;
      }
    }
  }
  return StartSession(user, now);
}

absl::StatusOr<v1::AuthResponse> SessionService::Refresh(const v1::RefreshRequest& request) {
  const std::string& token = request.refresh_token();
  if (!RefreshTokenCodec::LooksValid(token)) {
    return absl::UnauthenticatedError("invalid refresh token");
  }
  const RefreshTokenCodec& codec = deps_.pairs->refresh_codec();
  const std::string successor = codec.Successor(token);
  const int64_t now = deps_.clock->NowUnixSeconds();
  auto session = deps_.sessions->Rotate(RefreshTokenCodec::HashHex(token),
                                        RefreshTokenCodec::HashHex(successor), now,
                                        deps_.pairs->lifetimes());
  if (!session.ok()) return session.status();
  return deps_.pairs->Respond(session->user, successor, session->refresh_expires_at, now);
}

absl::Status SessionService::Logout(const v1::LogoutRequest& request) {
  // RFC 7009: an unknown or malformed token is not an error.
  if (!RefreshTokenCodec::LooksValid(request.refresh_token())) return absl::OkStatus();
  return deps_.sessions->RevokeSessions(RefreshTokenCodec::HashHex(request.refresh_token()),
                                        request.all_sessions(), deps_.clock->NowUnixSeconds());
}

v1::GetJwksResponse SessionService::GetJwks() const {
  v1::GetJwksResponse response;
  response.set_jwks_json(deps_.published_keys.ToPublicJson());
  return response;
}

absl::StatusOr<UserRecord> SessionService::BootstrapAdmin(const std::string& email,
                                                          const std::string& password) {
  auto normalized = NormalizeEmail(email);
  if (!normalized.ok()) return normalized.status();
  if (auto status = CheckPassword(password, *normalized); !status.ok()) return status;
  auto hash = deps_.hasher->Hash(password);
  if (!hash.ok()) return hash.status();
  NewUser admin{*normalized, EmailKey(*normalized), "Admin", "Admin", *std::move(hash),
                {"user", "admin"}};
  return deps_.users->UpsertAdmin(admin, deps_.clock->NowUnixSeconds());
}

}  // namespace tollgate::auth
