#include "auth_service/accounts/account_service.h"

#include <iostream>

#include "absl/status/status.h"
#include "auth_service/accounts/email_address.h"
#include "auth_service/accounts/person_name.h"
#include "auth_service/password/login_throttle.h"
#include "auth_service/password/password_policy.h"

namespace tollgate::auth {
namespace {

constexpr char kBadCredentials[] = "invalid email or password";

void SetTimestamp(int64_t unix_seconds, google::protobuf::Timestamp* out) {
  out->set_seconds(unix_seconds);
  out->set_nanos(0);
}

}  // namespace

void ToProto(const UserRecord& user, v1::User* out) {
  out->set_id(user.id);
  out->set_email(user.email);
  out->set_first_name(user.first_name);
  out->set_last_name(user.last_name);
  out->clear_roles();
  for (const auto& role : user.roles) out->add_roles(role);
  out->set_is_active(user.is_active);
  out->set_is_verified(user.is_verified);
  SetTimestamp(user.created_at, out->mutable_created_at());
  SetTimestamp(user.updated_at, out->mutable_updated_at());
}

AccountService::AccountService(Dependencies dependencies) : deps_(std::move(dependencies)) {}

absl::StatusOr<v1::AuthResponse> AccountService::Respond(const UserRecord& user,
                                                         std::string refresh_token,
                                                         int64_t refresh_expires_at,
                                                         int64_t now) const {
  auto access = deps_.issuer->Issue({user.id, user.email, user.roles}, now);
  if (!access.ok()) return access.status();
  v1::AuthResponse response;
  response.set_access_token(std::move(access->token));
  response.set_token_type("Bearer");
  response.set_expires_in(access->expires_at_unix_seconds - now);
  response.set_refresh_token(std::move(refresh_token));
  response.set_refresh_expires_in(refresh_expires_at - now);
  ToProto(user, response.mutable_user());
  return response;
}

absl::StatusOr<v1::AuthResponse> AccountService::StartSession(const UserRecord& user, int64_t now) {
  auto refresh_token = deps_.refresh_codec->NewToken(*deps_.random);
  if (!refresh_token.ok()) return refresh_token.status();
  auto expires_at = deps_.store->StartSession(user.id, RefreshTokenCodec::HashHex(*refresh_token),
                                              now, deps_.lifetimes);
  if (!expires_at.ok()) return expires_at.status();
  return Respond(user, *std::move(refresh_token), *expires_at, now);
}

absl::StatusOr<v1::AuthResponse> AccountService::Register(const v1::RegisterRequest& request) {
  auto email = NormalizeEmail(request.email());
  if (!email.ok()) return email.status();
  if (auto status = CheckName("first_name", request.first_name()); !status.ok()) return status;
  if (auto status = CheckName("last_name", request.last_name()); !status.ok()) return status;
  if (auto status = CheckPassword(request.password(), *email); !status.ok()) return status;

  auto hash = deps_.hasher->Hash(request.password());
  if (!hash.ok()) return hash.status();
  NewUser user{*email, EmailKey(*email), std::string(request.first_name()),
               std::string(request.last_name()), *std::move(hash), {"user"}};
  const int64_t now = deps_.clock->NowUnixSeconds();
  auto created = deps_.store->CreateUser(user, now);
  if (created.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError("email: an account with this email already exists");
  }
  if (!created.ok()) return created.status();
  return StartSession(*created, now);
}

absl::StatusOr<v1::AuthResponse> AccountService::Login(const v1::LoginRequest& request) {
  auto email = NormalizeEmail(request.email());
  if (!email.ok()) {
    // Same answer as an unknown account, after the same work.
    deps_.hasher->SpendOneHash(request.password());
    return absl::UnauthenticatedError(kBadCredentials);
  }
  auto found = deps_.store->FindUserByEmailKey(EmailKey(*email));
  if (!found.ok()) return found.status();
  const int64_t now = deps_.clock->NowUnixSeconds();
  if (!found->has_value()) {
    // Spend one hash anyway so timing does not tell which emails exist.
    deps_.hasher->SpendOneHash(request.password());
    return absl::UnauthenticatedError(kBadCredentials);
  }
  const UserRecord& user = **found;
  if (user.locked_until > now) {
    return absl::ResourceExhaustedError("too many failed logins: retry after " +
                                        std::to_string(user.locked_until - now) + " s");
  }
  auto matches = deps_.hasher->Verify(request.password(), user.password_hash);
  if (!matches.ok()) return matches.status();
  if (!*matches) {
    auto failures = deps_.store->RecordLoginFailure(user.id, now, &LockoutSeconds);
    if (!failures.ok()) return failures.status();
    return absl::UnauthenticatedError(kBadCredentials);
  }
  if (!user.is_active) return absl::PermissionDeniedError("account is deactivated");

  std::optional<std::string> upgraded_hash;
  if (deps_.hasher->NeedsRehash(user.password_hash)) {
    auto rehashed = deps_.hasher->Hash(request.password());
    if (rehashed.ok()) upgraded_hash = *std::move(rehashed);  // else: retry at the next login
  }
  // Only write the row when there is something to reset or replace: most
  // logins have neither, and the write (a transaction of three round trips
  // on this hashing thread, plus a new row version) bought nothing.
  if (upgraded_hash.has_value() || user.failed_logins != 0 || user.locked_until != 0) {
    if (auto status = deps_.store->RecordLoginSuccess(user.id, upgraded_hash, now); !status.ok()) {
      return status;
    }
  }
  return StartSession(user, now);
}

absl::StatusOr<v1::AuthResponse> AccountService::Refresh(const v1::RefreshRequest& request) {
  const std::string& token = request.refresh_token();
  if (!RefreshTokenCodec::LooksValid(token)) {
    return absl::UnauthenticatedError("invalid refresh token");
  }
  const std::string successor = deps_.refresh_codec->Successor(token);
  const int64_t now = deps_.clock->NowUnixSeconds();
  auto session = deps_.store->Rotate(RefreshTokenCodec::HashHex(token),
                                     RefreshTokenCodec::HashHex(successor), now, deps_.lifetimes);
  if (!session.ok()) return session.status();
  return Respond(session->user, successor, session->refresh_expires_at, now);
}

absl::Status AccountService::Logout(const v1::LogoutRequest& request) {
  // RFC 7009: an unknown or malformed token is not an error.
  if (!RefreshTokenCodec::LooksValid(request.refresh_token())) return absl::OkStatus();
  return deps_.store->RevokeSessions(RefreshTokenCodec::HashHex(request.refresh_token()),
                                     request.all_sessions(), deps_.clock->NowUnixSeconds());
}

v1::GetJwksResponse AccountService::GetJwks() const {
  v1::GetJwksResponse response;
  response.set_jwks_json(deps_.published_keys.ToPublicJson());
  return response;
}

absl::Status AccountService::BootstrapAdmin(const std::string& email, const std::string& password) {
  auto normalized = NormalizeEmail(email);
  if (!normalized.ok()) return normalized.status();
  if (auto status = CheckPassword(password, *normalized); !status.ok()) return status;
  auto hash = deps_.hasher->Hash(password);
  if (!hash.ok()) return hash.status();
  NewUser admin{*normalized, EmailKey(*normalized), "Admin", "Admin", *std::move(hash), {"user", "admin"}};
  auto user = deps_.store->UpsertAdmin(admin, deps_.clock->NowUnixSeconds());
  if (!user.ok()) return user.status();
  std::cerr << "auth: bootstrap admin ready (user " << user->id << ")\n";
  return absl::OkStatus();
}

}  // namespace tollgate::auth
