#include "client/cli/token_session.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tollgate::cli {

absl::Status RpcFailure(absl::string_view rpc, const grpc::Status& status) {
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = status.error_message();
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::replace(message.begin(), message.end(), '\r', ' ');
  std::string text = absl::StrCat(rpc, ": ", absl::StatusCodeToString(code));
  if (!message.empty()) absl::StrAppend(&text, ": ", message);
  return absl::Status(code, text);
}

std::unique_ptr<grpc::ClientContext> NewClientContext(std::chrono::seconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

TokenSession::TokenSession(const TokenFile& token_file,
                           auth::v1::AuthService::StubInterface& auth, const Clock& clock,
                           std::chrono::seconds timeout)
    : token_file_(token_file), auth_(auth), clock_(clock), timeout_(timeout) {}

absl::Status TokenSession::Call(absl::string_view rpc, const Rpc& call) {
  absl::StatusOr<std::string> access_token = CurrentAccessToken();
  if (!access_token.ok()) return access_token.status();
  grpc::Status status;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<grpc::ClientContext> context = NewClientContext(timeout_);
    context->AddMetadata("authorization", "Bearer " + *access_token);
    status = call(*context);
    if (status.error_code() != grpc::StatusCode::UNAUTHENTICATED || attempt == 1) break;
    // Rejected although we thought it valid (revoked key, server restarted
    // with a new key, clock skew): refresh once and retry once, no more, so
    // a session that is really over fails fast.
    access_token = AccessTokenReplacing(*access_token);
    if (!access_token.ok()) return access_token.status();
  }
  if (!status.ok()) return RpcFailure(rpc, status);
  return absl::OkStatus();
}

absl::StatusOr<auth::v1::AuthResponse> TokenSession::ForceRefresh() {
  absl::StatusOr<TokenFile::Lock> lock = token_file_.LockExclusive();
  if (!lock.ok()) return lock.status();
  absl::StatusOr<SavedTokens> tokens = token_file_.Load();
  if (!tokens.ok()) return tokens.status();
  return RefreshLocked(*tokens);
}

absl::StatusOr<std::string> TokenSession::CurrentAccessToken() {
  absl::StatusOr<SavedTokens> tokens = token_file_.Load();
  if (!tokens.ok()) return tokens.status();
  if (!ExpiresSoon(*tokens)) return tokens->access_token;

  absl::StatusOr<TokenFile::Lock> lock = token_file_.LockExclusive();
  if (!lock.ok()) return lock.status();
  // Another invocation may have refreshed while we waited for the lock.
  tokens = token_file_.Load();
  if (!tokens.ok()) return tokens.status();
  if (!ExpiresSoon(*tokens)) return tokens->access_token;
  absl::StatusOr<auth::v1::AuthResponse> response = RefreshLocked(*tokens);
  if (!response.ok()) return response.status();
  return response->access_token();
}

absl::StatusOr<std::string> TokenSession::AccessTokenReplacing(const std::string& rejected) {
  absl::StatusOr<TokenFile::Lock> lock = token_file_.LockExclusive();
  if (!lock.ok()) return lock.status();
  absl::StatusOr<SavedTokens> tokens = token_file_.Load();
  if (!tokens.ok()) return tokens.status();
  // Saved by another invocation since we read the file: try that one.
  if (tokens->access_token != rejected && !ExpiresSoon(*tokens)) return tokens->access_token;
  absl::StatusOr<auth::v1::AuthResponse> response = RefreshLocked(*tokens);
  if (!response.ok()) return response.status();
  return response->access_token();
}

absl::StatusOr<auth::v1::AuthResponse> TokenSession::RefreshLocked(const SavedTokens& tokens) {
  auth::v1::RefreshRequest request;
  request.set_refresh_token(tokens.refresh_token);
  auth::v1::AuthResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewClientContext(timeout_);
  const grpc::Status status = auth_.Refresh(context.get(), request, &response);
  if (!status.ok()) return RpcFailure("Refresh", status);
  // Save before anything uses the new pair: the old refresh token is spent
  // now, losing the new one would end the session.
  SavedTokens refreshed = SavedTokens::FromAuthResponse(response, clock_.NowUnixSeconds());
  if (refreshed.email.empty()) refreshed.email = tokens.email;
  if (absl::Status saved = token_file_.Save(refreshed); !saved.ok()) {
    return absl::Status(saved.code(),
                        absl::StrCat("cannot save the refreshed tokens: ", saved.message()));
  }
  return response;
}

bool TokenSession::ExpiresSoon(const SavedTokens& tokens) const {
  return tokens.access_expires_at_unix_seconds - clock_.NowUnixSeconds() <=
         kRefreshBeforeExpirySeconds;
}

}  // namespace tollgate::cli
