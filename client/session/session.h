#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/session/published_access.h"
#include "client/session/saved_tokens.h"
#include "client/session/token_store.h"
#include "common/clock.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::client {

// Every error that means "this session is over, log in again" starts with
// this (see Session, "End").
inline constexpr char kSessionEndedPrefix[] = "session ended: ";

// True for the error of a call that failed because its session ended: the
// status of Call(), AccessToken() or RefreshNow() (UNAUTHENTICATED), or of a
// call that carried Credentials() (gRPC 1.51 reports every credentials
// failure as UNAVAILABLE "Getting metadata from plugin failed with error:
// session ended: ...").
[[nodiscard]] bool IsSessionEnded(const absl::Status& status);
[[nodiscard]] bool IsSessionEnded(const grpc::Status& status);

struct SessionOptions {
  // Deadline of each Login, Refresh and Logout the Session makes, and the
  // deadline Call() puts on the context it makes (the call may change it).
  std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10);

  // Called once when the session ends by itself (see "End"), with the
  // reason (an error starting with kSessionEndedPrefix). It runs on the
  // thread that found out (a caller's, or gRPC's credentials thread) after
  // the Session's lock is released; keep it short. Not called for Logout().
  std::function<void(const absl::Status& why)> on_ended;

  // Time for the refresh schedule. nullptr: the system clock, in
  // milliseconds. Tests and the CLI pass a Clock, read in whole seconds.
  // Must outlive the Session.
  const Clock* clock = nullptr;
};

// A logged-in session of AuthService that keeps itself alive: it holds the
// token pair, puts the access token on calls, and renews it without asking
// the user again for as long as the server lets the session live.
//
// Contract:
// - Start: Login() logs in and saves the pair in the TokenStore; Resume()
//   starts from the pair already in a store (the CLI's token file, or
//   SavedTokens::FromRefreshToken in an InMemoryTokenStore) without a call.
//   Every pair the Session gets later is saved in the store before it is
//   used: the old refresh token is spent by then.
// - Credentials(): grpc::CallCredentials that put "authorization: Bearer
//   <access token>" on every call they are set on, to any service behind
//   the tollgate interceptor (SumService, AuthService's own methods, your
//   services): `context.set_credentials(session->Credentials())`, or, on a
//   TLS channel, grpc::CompositeChannelCredentials(tls, creds) for every
//   call of the channel (gRPC refuses to compose with plaintext channel
//   credentials, so per-call is the way there). They are sent on plaintext
//   channels too; use TLS beyond one host. They work while the Session
//   lives; after that calls fail with UNAUTHENTICATED "session closed".
// - Proactive refresh: an access token is renewed once less than
//   RefreshLeadMillis(lifetime) is left (max(60 s, 10% of the lifetime);
//   10% of a token shorter than two minutes; refresh_schedule.h) by the
//   first call that notices. The expiry is the earlier of the reply's
//   expires_in and the token's exp claim (unverified_expiry.h).
//   That call waits for the Refresh; every other call meanwhile goes on
//   with the current token, which is still valid. A call waits only when
//   the token has expired (or the session has none yet) and a Refresh is
//   under way.
// - Single flight: however many threads (and Sessions or processes sharing
//   the store) find the token due at once, one Refresh is made. Before
//   spending the refresh token, the Session takes the store's lock and
//   re-reads it: a newer pair saved by someone else is used instead.
// - Reactive refresh: Call() runs a call with the current token and, when
//   it answers UNAUTHENTICATED (a key rotated out, a token refused for a
//   reason the client cannot see), refreshes once (or takes the token
//   another thread got meanwhile) and runs it once more. Never more: a
//   session the server refuses fails fast. It is a call wrapper, not a
//   client interceptor, because a gRPC C++ interceptor cannot make a call
//   again: the request is already serialized into the first attempt, a
//   ClientContext serves one call only, and a stream cannot be replayed.
//   Call() re-runs your function with a fresh context, so it suits unary
//   calls and streams that it can send again. Calls made with
//   Credentials() alone get the proactive refresh only.
// - Failed refresh: a Refresh that fails for a reason that may pass
//   (UNAVAILABLE, DEADLINE_EXCEEDED, ...) is retried no sooner than
//   RefreshRetryDelayMillis (1 s, doubling to 30 s). Meanwhile calls go on
//   with the current token while it is valid; once it has expired they
//   fail at once with that Refresh error ("Refresh: UNAVAILABLE: ...").
// - End: the session ends when AuthService refuses its refresh token
//   (UNAUTHENTICATED: revoked by Logout elsewhere, a password change or
//   reset, reuse detection, a deactivated account, or expired), when the
//   refresh token is known to have expired, or when the store was cleared
//   (another process logged out). From then on every call fails at once
//   with UNAUTHENTICATED "session ended: <reason>", without a call to any
//   server, and on_ended is called once. The Session never loops on a dead
//   session; the store keeps the dead pair (clear it, or log in again with
//   a new Session). Access tokens are checked without a database, so a
//   session revoked elsewhere is noticed at its next refresh: calls go on
//   until then.
// - Thread-safe: one Session serves any number of threads; its methods may
//   block for one Refresh (up to rpc_timeout).
class Session final : public std::enable_shared_from_this<Session> {
 public:
  // A call to make with `context` (deadline and authorization set);
  // returns its status.
  using Rpc = std::function<grpc::Status(grpc::ClientContext& context)>;

  // Login(email, password), then saves the pair in `store`. The Login's
  // status as RpcFailure("Login", ...) (UNAUTHENTICATED "invalid email or
  // password", RESOURCE_EXHAUSTED for backoff, ...), or the store's error.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<Session>> Login(
      std::shared_ptr<grpc::ChannelInterface> auth_channel, const std::string& email,
      const std::string& password, std::shared_ptr<TokenStore> store,
      SessionOptions options = {});

  // The pair saved in `store`; no call. The store's error when it holds
  // none (NOT_FOUND) or cannot be read; INVALID_ARGUMENT for a pair
  // without a refresh token.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<Session>> Resume(
      std::shared_ptr<grpc::ChannelInterface> auth_channel, std::shared_ptr<TokenStore> store,
      SessionOptions options = {});

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // The same object on every call; keep it and set it on as many calls as
  // you like.
  [[nodiscard]] std::shared_ptr<grpc::CallCredentials> Credentials();

  // Runs `call` with a fresh context (deadline rpc_timeout, the access
  // token as authorization), with the reactive retry above. OK, or the
  // call's status as RpcFailure(rpc, ...), or what kept the call from
  // being made: a Refresh error, "session ended: ...", a store error.
  [[nodiscard]] absl::Status Call(absl::string_view rpc, const Rpc& call);

  // The access token to send now, refreshed first when due; errors as
  // Call(). For protocols that take the token elsewhere.
  [[nodiscard]] absl::StatusOr<std::string> AccessToken();

  // Spends the refresh token now, whatever the access token's age, saves
  // the new pair and returns the reply (the CLI's `refresh`).
  [[nodiscard]] absl::StatusOr<auth::v1::AuthResponse> RefreshNow();

  // Revokes the session at AuthService (with `all_sessions`, every session
  // of the account), then clears the store; the Session has ended ("session
  // ended: logged out"; on_ended is not called). On failure
  // (RpcFailure("Logout", ...)) nothing changes, so it can be retried.
  [[nodiscard]] absl::Status Logout(bool all_sessions = false);

  // OK while the session lives; the "session ended: ..." error after.
  [[nodiscard]] absl::Status ended() const;
  // Refresh calls that succeeded, over the Session's life.
  [[nodiscard]] int64_t refreshes() const;
  // The account's email, as the last reply (or the store) gave it.
  [[nodiscard]] std::string email() const;

 private:
  // What calls send, replaced whole on every new pair.
  struct Access {
    std::string access_token;
    std::string authorization;  // "Bearer " + access_token
    int64_t refresh_due_at_millis = 0;
    int64_t expires_at_millis = 0;
    uint64_t generation = 0;  // 1 for the first pair, +1 for each new one
  };
  using AccessPtr = std::shared_ptr<const Access>;
  struct RefreshOutcome;
  class CredentialsPlugin;
  // Why a Refresh is made: the token is due (a newer pair in the store is
  // taken if it is not due), the server refused the token (a newer pair in
  // the store is taken if it is another token), or RefreshNow (always a
  // Refresh call).
  enum class RefreshReason { kDue, kRefused, kAsked };
  // How a Refresh ended.
  enum class RefreshEnd { kNewPair, kFailed, kSessionEnded };

  Session(std::shared_ptr<grpc::ChannelInterface> auth_channel,
          std::shared_ptr<TokenStore> store, SessionOptions options, SavedTokens tokens,
          int64_t received_at_millis);

  // Milliseconds since the epoch from `clock`, or the system clock.
  static int64_t NowMillis(const Clock* clock);
  int64_t NowMillis() const { return NowMillis(options_.clock); }
  // The token for a call now (proactive path); may lead or wait for a
  // Refresh.
  absl::StatusOr<AccessPtr> FreshAccess();
  // Would FreshAccess answer without waiting for a Refresh? (The
  // credentials' IsBlocking.)
  bool AnswersAtOnce() const;
  // After the token of `rejected_generation` was refused (reactive path).
  absl::StatusOr<AccessPtr> AccessReplacing(uint64_t rejected_generation);
  // With `lock` held and no Refresh under way: runs one Refresh as the
  // leader (the lock is released meanwhile) and applies it; `lock` is held
  // again on return. Returns the token to use or the error (a new pair that
  // could not be saved is in use, and its error returned); *end says how
  // it went, *response gets the reply when there was one.
  absl::StatusOr<AccessPtr> LeadRefresh(std::unique_lock<std::mutex>& lock, RefreshReason reason,
                                        RefreshEnd* end, auth::v1::AuthResponse* response);
  // The Refresh itself, under the store's lock; no member state touched.
  RefreshOutcome RunRefresh(const SavedTokens& ours, RefreshReason reason);
  // Installs `tokens` as the pair in use. Caller holds mutex_.
  void InstallLocked(SavedTokens tokens, int64_t received_at_millis);
  // Caller holds mutex_: not ended, and the token is usable at `now`.
  bool UsableLocked(int64_t now_millis) const;

  const std::unique_ptr<auth::v1::AuthService::Stub> auth_;
  const std::shared_ptr<TokenStore> store_;
  const SessionOptions options_;
  // What the credentials attach without taking mutex_ (the token while it
  // is not due); shared with them.
  const std::shared_ptr<PublishedAccess> published_ = std::make_shared<PublishedAccess>();

  mutable std::mutex mutex_;
  std::condition_variable refresh_done_;
  SavedTokens tokens_;                  // guarded by mutex_
  AccessPtr access_;                    // guarded by mutex_; never null
  bool refreshing_ = false;             // guarded by mutex_: a leader is at work
  absl::Status ended_;                  // guarded by mutex_
  absl::Status last_refresh_error_;     // guarded by mutex_
  int consecutive_failures_ = 0;        // guarded by mutex_
  int64_t retry_after_millis_ = 0;      // guarded by mutex_
  int64_t refreshes_ = 0;               // guarded by mutex_

  std::once_flag credentials_once_;
  std::shared_ptr<grpc::CallCredentials> credentials_;
};

}  // namespace tollgate::client
