#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/token_file.h"
#include "common/clock.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::cli {

// Refresh the saved access token first when it expires within this many
// seconds, so that a call does not leave with a token that dies on the way
// (and the server's 30 s leeway is not relied on).
inline constexpr int64_t kRefreshBeforeExpirySeconds = 30;

// The error of a failed call, as the CLI prints it: the status code of the
// call and the message "<RPC>: <CODE_NAME>: <message>" (newlines in the
// server's message become spaces, so it stays one line; an empty message
// leaves out its ": ").
absl::Status RpcFailure(absl::string_view rpc, const grpc::Status& status);

// A fresh ClientContext whose deadline is `timeout` from now.
std::unique_ptr<grpc::ClientContext> NewClientContext(std::chrono::seconds timeout);

// The saved session of the token file, for one invocation of the CLI.
//
// Call() attaches `authorization: Bearer <access token>` to a call:
// - proactively, it refreshes first when the saved access token expires
//   within kRefreshBeforeExpirySeconds;
// - reactively, when the call answers UNAUTHENTICATED it refreshes once and
//   retries the call once (the server may have rotated keys or restarted).
// Every refresh saves the new pair in the token file before it is used. It
// runs under the token file's lock and first re-reads the file: when another
// invocation has refreshed meanwhile, its pair is used instead of spending a
// refresh token that is already spent (which the server would treat as reuse
// and answer by ending the whole session).
class TokenSession final {
 public:
  // The call to make with a prepared context (deadline and authorization
  // set); returns its status.
  using Rpc = std::function<grpc::Status(grpc::ClientContext& context)>;

  TokenSession(const TokenFile& token_file, auth::v1::AuthService::StubInterface& auth,
               const Clock& clock, std::chrono::seconds timeout);

  // OK, or the status of the call (RpcFailure(rpc, ...)), of a needed
  // Refresh (RpcFailure("Refresh", ...)), or of the token file (NOT_FOUND
  // when not logged in, FAILED_PRECONDITION for open permissions).
  [[nodiscard]] absl::Status Call(absl::string_view rpc, const Rpc& call);

  // Spends the saved refresh token unconditionally and saves the new pair
  // (the `refresh` command). The response is returned for printing.
  [[nodiscard]] absl::StatusOr<auth::v1::AuthResponse> ForceRefresh();

 private:
  // The access token to send now, refreshed first if it expires soon.
  absl::StatusOr<std::string> CurrentAccessToken();
  // After `rejected` was answered UNAUTHENTICATED: a newer saved token, or a
  // freshly refreshed one.
  absl::StatusOr<std::string> AccessTokenReplacing(const std::string& rejected);
  // Refresh RPC with `tokens.refresh_token`, then Save. Caller holds the lock.
  absl::StatusOr<auth::v1::AuthResponse> RefreshLocked(const SavedTokens& tokens);
  bool ExpiresSoon(const SavedTokens& tokens) const;

  const TokenFile& token_file_;
  auth::v1::AuthService::StubInterface& auth_;
  const Clock& clock_;
  const std::chrono::seconds timeout_;
};

}  // namespace tollgate::cli
