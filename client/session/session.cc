#include "client/session/session.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/session/refresh_schedule.h"
#include "client/session/rpc_failure.h"
#include "client/session/unverified_expiry.h"

namespace tollgate::client {
namespace {

int64_t SystemNowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status SessionEnded(absl::string_view reason) {
  return absl::UnauthenticatedError(absl::StrCat(kSessionEndedPrefix, reason));
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(std::chrono::milliseconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

}  // namespace

bool IsSessionEnded(const absl::Status& status) {
  return !status.ok() && absl::StrContains(status.message(), kSessionEndedPrefix);
}

bool IsSessionEnded(const grpc::Status& status) {
  return !status.ok() && absl::StrContains(status.error_message(), kSessionEndedPrefix);
}

// What one Refresh attempt came to; applied under the Session's lock.
struct Session::RefreshOutcome {
  // The pair to use from now on (a Refresh reply, or a newer pair found in
  // the store), and when it arrived (0: taken from the store).
  std::optional<SavedTokens> tokens;
  int64_t received_at_millis = 0;
  std::optional<auth::v1::AuthResponse> response;
  // For the caller: why there is no pair, or why a new pair could not be
  // saved.
  absl::Status error;
  bool ends_session = false;
};

absl::StatusOr<std::shared_ptr<Session>> Session::Login(
    std::shared_ptr<grpc::ChannelInterface> auth_channel, const std::string& email,
    const std::string& password, std::shared_ptr<TokenStore> store, SessionOptions options) {
  auto stub = auth::v1::AuthService::NewStub(auth_channel);
  auth::v1::LoginRequest request;
  request.set_email(email);
  request.set_password(password);
  auth::v1::AuthResponse response;
  std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline(options.rpc_timeout);
  const grpc::Status status = stub->Login(context.get(), request, &response);
  if (!status.ok()) return RpcFailure("Login", status);
  const int64_t now_millis = NowMillis(options.clock);
  SavedTokens tokens = SavedTokens::FromAuthResponse(response, now_millis / 1000);
  if (tokens.email.empty()) tokens.email = email;
  if (absl::Status saved = store->Save(tokens); !saved.ok()) {
    return absl::Status(saved.code(), absl::StrCat("cannot save the tokens: ", saved.message()));
  }
  return std::shared_ptr<Session>(new Session(std::move(auth_channel), std::move(store),
                                              std::move(options), std::move(tokens), now_millis));
}

absl::StatusOr<std::shared_ptr<Session>> Session::Resume(
    std::shared_ptr<grpc::ChannelInterface> auth_channel, std::shared_ptr<TokenStore> store,
    SessionOptions options) {
  absl::StatusOr<SavedTokens> tokens = store->Load();
  if (!tokens.ok()) return tokens.status();
  if (tokens->refresh_token.empty()) {
    return absl::InvalidArgumentError("the saved pair has no refresh token");
  }
  return std::shared_ptr<Session>(new Session(std::move(auth_channel), std::move(store),
                                              std::move(options), *std::move(tokens),
                                              /*received_at_millis=*/0));
}

Session::Session(std::shared_ptr<grpc::ChannelInterface> auth_channel,
                 std::shared_ptr<TokenStore> store, SessionOptions options, SavedTokens tokens,
                 int64_t received_at_millis)
    : auth_(auth::v1::AuthService::NewStub(std::move(auth_channel))),
      store_(std::move(store)),
      options_(std::move(options)) {
  std::lock_guard<std::mutex> lock(mutex_);
  access_ = std::make_shared<const Access>();
  InstallLocked(std::move(tokens), received_at_millis);
}

// Credentials that outlive their Session attach nothing more.
Session::~Session() { published_->Withdraw(); }

int64_t Session::NowMillis(const Clock* clock) {
  return clock != nullptr ? clock->NowUnixSeconds() * 1000 : SystemNowMillis();
}

void Session::InstallLocked(SavedTokens tokens, int64_t received_at_millis) {
  auto access = std::make_shared<Access>();
  access->access_token = tokens.access_token;
  access->authorization = "Bearer " + tokens.access_token;
  const int64_t lifetime_millis = tokens.access_lifetime_seconds * 1000;
  // A fresh reply is timed to the millisecond; a stored pair has whole
  // seconds.
  access->expires_at_millis = received_at_millis > 0 && lifetime_millis > 0
                                  ? received_at_millis + lifetime_millis
                                  : tokens.access_expires_at_unix_seconds * 1000;
  // The token's own exp, when it has one, may be up to a second earlier
  // (whole seconds): the earlier of the two is when it dies.
  if (const std::optional<int64_t> exp = UnverifiedExpiryUnixSeconds(tokens.access_token)) {
    access->expires_at_millis = std::min(access->expires_at_millis, *exp * 1000);
  }
  if (tokens.access_token.empty()) access->expires_at_millis = 0;  // only a refresh token
  access->refresh_due_at_millis = RefreshDueAtMillis(access->expires_at_millis, lifetime_millis);
  access->generation = access_->generation + 1;
  published_->Publish(access->authorization, access->refresh_due_at_millis);
  access_ = std::move(access);
  tokens_ = std::move(tokens);
}

bool Session::UsableLocked(int64_t now_millis) const {
  return ended_.ok() && now_millis < access_->expires_at_millis;
}

absl::StatusOr<Session::AccessPtr> Session::FreshAccess() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (!ended_.ok()) return ended_;
    const int64_t now = NowMillis();
    if (now < access_->refresh_due_at_millis) return access_;
    const bool usable = UsableLocked(now);
    // Due but still valid: while another thread refreshes, or while a
    // failed Refresh waits to be retried, calls go on with this token.
    if (usable && (refreshing_ || now < retry_after_millis_)) return access_;
    if (refreshing_) {
      refresh_done_.wait(lock);
      continue;
    }
    if (!usable && now < retry_after_millis_) return last_refresh_error_;
    break;
  }
  RefreshEnd end;
  absl::StatusOr<AccessPtr> refreshed = LeadRefresh(lock, RefreshReason::kDue, &end, nullptr);
  // A Refresh that failed for now does not fail a call whose token still
  // works; the next attempt waits for the retry delay.
  if (end == RefreshEnd::kFailed && UsableLocked(NowMillis())) return access_;
  return refreshed;
}

bool Session::AnswersAtOnce() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!ended_.ok()) return true;
  const int64_t now = NowMillis();
  if (now < access_->refresh_due_at_millis) return true;
  if (UsableLocked(now)) return refreshing_ || now < retry_after_millis_;
  return !refreshing_ && now < retry_after_millis_;  // fails fast with the last error
}

absl::StatusOr<Session::AccessPtr> Session::AccessReplacing(uint64_t rejected_generation) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (!ended_.ok()) return ended_;
    // Another thread already replaced the refused token: try the new one.
    if (access_->generation != rejected_generation) return access_;
    if (!refreshing_) break;
    refresh_done_.wait(lock);
  }
  if (NowMillis() < retry_after_millis_) return last_refresh_error_;
  RefreshEnd end;
  return LeadRefresh(lock, RefreshReason::kRefused, &end, nullptr);
}

absl::StatusOr<Session::AccessPtr> Session::LeadRefresh(std::unique_lock<std::mutex>& lock,
                                                        RefreshReason reason, RefreshEnd* end,
                                                        auth::v1::AuthResponse* response) {
  refreshing_ = true;
  const SavedTokens ours = tokens_;
  lock.unlock();
  RefreshOutcome outcome = RunRefresh(ours, reason);
  lock.lock();
  refreshing_ = false;

  bool newly_ended = false;
  if (outcome.tokens.has_value()) {
    *end = RefreshEnd::kNewPair;
    InstallLocked(*std::move(outcome.tokens), outcome.received_at_millis);
    if (outcome.response.has_value()) ++refreshes_;
    consecutive_failures_ = 0;
    retry_after_millis_ = 0;
    last_refresh_error_ = absl::OkStatus();
  } else if (outcome.ends_session) {
    *end = RefreshEnd::kSessionEnded;
    ended_ = outcome.error;
    published_->Withdraw();
    newly_ended = true;
  } else {
    *end = RefreshEnd::kFailed;
    ++consecutive_failures_;
    retry_after_millis_ = NowMillis() + RefreshRetryDelayMillis(consecutive_failures_);
    last_refresh_error_ = outcome.error;
  }
  refresh_done_.notify_all();
  absl::StatusOr<AccessPtr> result = access_;
  if (!outcome.error.ok()) result = outcome.error;
  if (response != nullptr && outcome.response.has_value()) *response = *outcome.response;
  lock.unlock();
  if (newly_ended && options_.on_ended) options_.on_ended(outcome.error);
  lock.lock();
  return result;
}

Session::RefreshOutcome Session::RunRefresh(const SavedTokens& ours, RefreshReason reason) {
  RefreshOutcome outcome;
  absl::StatusOr<std::unique_ptr<TokenStore::Lock>> store_lock = store_->LockForRefresh();
  if (!store_lock.ok()) {
    outcome.error = store_lock.status();
    return outcome;
  }
  absl::StatusOr<SavedTokens> stored = store_->Load();
  if (absl::IsNotFound(stored.status())) {
    // Cleared by a Logout that shares the store (`tollgate logout`).
    outcome.ends_session = true;
    outcome.error = SessionEnded("the token store was cleared (logged out elsewhere)");
    return outcome;
  }
  if (!stored.ok()) {
    outcome.error = stored.status();
    return outcome;
  }
  const int64_t now_millis = NowMillis();
  SavedTokens base = ours;
  if (stored->refresh_token != ours.refresh_token) {
    // Someone sharing the store refreshed since we read it; our refresh
    // token is spent. Use their pair, or refresh from it.
    base = *std::move(stored);
    const int64_t due_at = RefreshDueAtMillis(base.access_expires_at_unix_seconds * 1000,
                                              base.access_lifetime_seconds * 1000);
    if (reason != RefreshReason::kAsked && !base.access_token.empty() &&
        base.access_token != ours.access_token && now_millis < due_at) {
      outcome.tokens = std::move(base);
      return outcome;
    }
  }
  if (base.refresh_expires_at_unix_seconds > 0 &&
      now_millis / 1000 >= base.refresh_expires_at_unix_seconds) {
    outcome.ends_session = true;
    outcome.error = SessionEnded("the refresh token expired");
    return outcome;
  }

  auth::v1::RefreshRequest request;
  request.set_refresh_token(base.refresh_token);
  auth::v1::AuthResponse response;
  std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline(options_.rpc_timeout);
  const grpc::Status status = auth_->Refresh(context.get(), request, &response);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    // Revoked, reused, expired, or the account deactivated: asking again
    // cannot help.
    outcome.ends_session = true;
    outcome.error = SessionEnded(RpcFailure("Refresh", status).message());
    return outcome;
  }
  if (!status.ok()) {
    outcome.error = RpcFailure("Refresh", status);
    return outcome;
  }
  const int64_t received_at_millis = NowMillis();
  SavedTokens refreshed = SavedTokens::FromAuthResponse(response, received_at_millis / 1000);
  if (refreshed.email.empty()) refreshed.email = base.email;
  // Saved before anyone uses it: the old refresh token is spent now. If
  // saving fails the pair is still used in memory, and the caller learns.
  if (absl::Status saved = store_->Save(refreshed); !saved.ok()) {
    outcome.error = absl::Status(
        saved.code(), absl::StrCat("cannot save the refreshed tokens: ", saved.message()));
  }
  outcome.tokens = std::move(refreshed);
  outcome.received_at_millis = received_at_millis;
  outcome.response = std::move(response);
  return outcome;
}

absl::Status Session::Call(absl::string_view rpc, const Rpc& call) {
  absl::StatusOr<AccessPtr> access = FreshAccess();
  if (!access.ok()) return access.status();
  grpc::Status status;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline(options_.rpc_timeout);
    context->AddMetadata("authorization", (*access)->authorization);
    status = call(*context);
    if (status.error_code() != grpc::StatusCode::UNAUTHENTICATED || attempt == 1) break;
    // Refused although we thought it valid: one new token, one more try.
    access = AccessReplacing((*access)->generation);
    if (!access.ok()) return access.status();
  }
  if (!status.ok()) return RpcFailure(rpc, status);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Session::AccessToken() {
  absl::StatusOr<AccessPtr> access = FreshAccess();
  if (!access.ok()) return access.status();
  return (*access)->access_token;
}

absl::StatusOr<auth::v1::AuthResponse> Session::RefreshNow() {
  std::unique_lock<std::mutex> lock(mutex_);
  refresh_done_.wait(lock, [this] { return !refreshing_; });
  if (!ended_.ok()) return ended_;
  auth::v1::AuthResponse response;
  RefreshEnd end;
  absl::StatusOr<AccessPtr> refreshed = LeadRefresh(lock, RefreshReason::kAsked, &end, &response);
  if (!refreshed.ok()) return refreshed.status();
  return response;
}

absl::Status Session::Logout(bool all_sessions) {
  std::unique_lock<std::mutex> lock(mutex_);
  refresh_done_.wait(lock, [this] { return !refreshing_; });
  // Holds off refreshes while the refresh token is being revoked.
  refreshing_ = true;
  std::string refresh_token = tokens_.refresh_token;
  lock.unlock();

  absl::Status result;
  absl::StatusOr<std::unique_ptr<TokenStore::Lock>> store_lock = store_->LockForRefresh();
  if (!store_lock.ok()) {
    result = store_lock.status();
  } else {
    // The newest pair of the session, if someone sharing the store has
    // refreshed since.
    if (absl::StatusOr<SavedTokens> stored = store_->Load(); stored.ok()) {
      refresh_token = stored->refresh_token;
    }
    auth::v1::LogoutRequest request;
    request.set_refresh_token(refresh_token);
    request.set_all_sessions(all_sessions);
    auth::v1::LogoutResponse response;
    std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline(options_.rpc_timeout);
    const grpc::Status status = auth_->Logout(context.get(), request, &response);
    // On failure the pair stays, so that Logout can be retried: dropping
    // it would leave a live session that nobody can end any more.
    result = status.ok() ? store_->Clear() : RpcFailure("Logout", status);
  }

  lock.lock();
  refreshing_ = false;
  if (result.ok()) {
    ended_ = SessionEnded("logged out");
    published_->Withdraw();
  }
  refresh_done_.notify_all();
  return result;
}

absl::Status Session::ended() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ended_;
}

int64_t Session::refreshes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return refreshes_;
}

std::string Session::email() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tokens_.email;
}

}  // namespace tollgate::client
