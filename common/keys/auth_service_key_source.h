#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/keys/key_source.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate {

struct KeyFetchMetrics;

struct AuthServiceKeySourceOptions {
  std::string target;  // host:port of the AuthService
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  // Background refresh while all is well, so rotated-out keys disappear.
  std::chrono::seconds refresh_interval{300};
  // Until the first success, and after a failure, retry this often.
  std::chrono::milliseconds retry_interval{1000};
  // At most one fetch for unknown kids per this interval: a client spraying
  // random kids cannot make us hammer the AuthService.
  std::chrono::milliseconds min_refetch_interval{5000};
  std::chrono::milliseconds fetch_deadline{2000};
  // Called once, from the fetch thread, when the first key set arrived.
  std::function<void()> on_first_keys;
  // Where each fetch is counted by result (tollgate_jwks_fetch_total); null:
  // nowhere. Must outlive the source. The age gauge is the owner's to set,
  // at scrape time, from KeysAge().
  KeyFetchMetrics* metrics = nullptr;
};

// Keys from AuthService.GetJwks over gRPC (SPEC section 6): fetched at
// start, refreshed in the background, refetched when a token names an
// unknown kid (one fetch at a time, at most once per min_refetch_interval).
// When the AuthService is unreachable the last good set stays in use, so
// verification goes on with cached keys. One thread does every fetch.
//
// A fetch ends in one of three results, counted in fetches() /
// failed_fetches() and, with options.metrics, in tollgate_jwks_fetch_total:
// "ok" (the set is in use, new or the same as before), "error" (GetJwks
// failed: unreachable, deadline, a non-OK status) or "rejected" (the reply
// is not a usable JWKS). On "error" and "rejected" the last good set stays.
//
// Logs (common/logging): info "keys loaded" (`source`, `keys`) for each new
// set; warn "key fetch failed" (`source`, `code`, `reason`,
// `failures_in_a_row`, `keys_held`) for the first failure of a run and then
// every 60th, so an AuthService that stays down costs a line a minute rather
// than one a second; info "key fetch recovered" (`failures`) after a run.
class AuthServiceKeySource final : public KeySource {
 public:
  explicit AuthServiceKeySource(AuthServiceKeySourceOptions options);
  ~AuthServiceKeySource() override;  // stops the fetch thread, runs pending callbacks

  std::shared_ptr<const JwkSet> Current() const override;
  void RefreshForUnknownKid(std::function<void()> done) override;

  // Successful and failed fetches so far (for tests and metrics).
  int64_t fetches() const { return fetches_.load(); }
  int64_t failed_fetches() const { return failed_fetches_.load(); }
  // Time since the last successful fetch, which confirmed the set in use;
  // nullopt until the first one.
  std::optional<std::chrono::steady_clock::duration> KeysAge() const;

 private:
  void Run();
  bool FetchOnce();  // true when the fetch succeeded ("ok"; the set may be unchanged)
  enum class FetchResult { kOk, kError, kRejected };
  // Counts a fetch (fetches() / failed_fetches(), and the metrics).
  void Count(FetchResult result);
  // Logs a failed fetch when it is the first of a run or every 60th after.
  void ReportFailure(absl::StatusCode code, const std::string& reason);

  const AuthServiceKeySourceOptions options_;
  std::unique_ptr<auth::v1::AuthService::Stub> stub_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<const JwkSet> keys_;             // guarded by mutex_
  std::string last_jwks_json_;                     // guarded by mutex_; what keys_ came from
  // Callers answered by the next fetch, and callers that joined the
  // on-demand fetch in progress.
  std::vector<std::function<void()>> waiters_;     // guarded by mutex_
  std::vector<std::function<void()>> joined_;      // guarded by mutex_
  bool fetch_requested_ = false;                   // guarded by mutex_
  bool fetching_ = false;                          // guarded by mutex_
  bool fetching_on_demand_ = false;                // guarded by mutex_
  bool stopping_ = false;                          // guarded by mutex_
  std::chrono::steady_clock::time_point last_on_demand_fetch_{};  // guarded by mutex_
  std::optional<std::chrono::steady_clock::time_point> last_fetched_;  // guarded by mutex_

  std::atomic<int64_t> fetches_{0};
  std::atomic<int64_t> failed_fetches_{0};
  int64_t failures_in_a_row_ = 0;  // the fetch thread's only
  std::thread thread_;
};

}  // namespace tollgate
