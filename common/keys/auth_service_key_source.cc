#include "common/keys/auth_service_key_source.h"

#include "common/logging/logger.h"

#include "common/metrics/service_metrics.h"

namespace tollgate {
namespace {

constexpr int64_t kLogEveryNthFailure = 60;

}  // namespace

AuthServiceKeySource::AuthServiceKeySource(AuthServiceKeySourceOptions options)
    : options_(std::move(options)),
      stub_(auth::v1::AuthService::NewStub(grpc::CreateChannel(options_.target, options_.credentials))),
      keys_(std::make_shared<const JwkSet>()) {
  thread_ = std::thread([this] { Run(); });
}

AuthServiceKeySource::~AuthServiceKeySource() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // Calls parked on an unknown kid must still Proceed(), or shutdown hangs.
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    waiters.swap(waiters_);
    waiters.insert(waiters.end(), std::make_move_iterator(joined_.begin()),
                   std::make_move_iterator(joined_.end()));
    joined_.clear();
  }
  for (auto& done : waiters) done();
}

std::shared_ptr<const JwkSet> AuthServiceKeySource::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return keys_;
}

void AuthServiceKeySource::RefreshForUnknownKid(std::function<void()> done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      // Single flight: join the on-demand fetch in progress, or the one
      // already queued. A background fetch in progress may have started
      // before the new key was published, so it does not count.
      if (fetching_ && fetching_on_demand_) {
        joined_.push_back(std::move(done));
        return;
      }
      if (fetch_requested_) {
        waiters_.push_back(std::move(done));
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_on_demand_fetch_ >= options_.min_refetch_interval) {
        last_on_demand_fetch_ = now;
        fetch_requested_ = true;
        waiters_.push_back(std::move(done));
        wake_.notify_all();
        return;
      }
    }
  }
  done();  // rate-limited (or stopping): answer with the keys we have
}

std::optional<std::chrono::steady_clock::duration> AuthServiceKeySource::KeysAge() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!last_fetched_.has_value()) return std::nullopt;
  return std::chrono::steady_clock::now() - *last_fetched_;
}

void AuthServiceKeySource::Count(FetchResult result) {
  (result == FetchResult::kOk ? fetches_ : failed_fetches_).fetch_add(1);
  if (options_.metrics == nullptr) return;
  switch (result) {
    case FetchResult::kOk: options_.metrics->jwks_fetch_ok_total.Increment(); break;
    case FetchResult::kError: options_.metrics->jwks_fetch_error_total.Increment(); break;
    case FetchResult::kRejected: options_.metrics->jwks_fetch_rejected_total.Increment(); break;
  }
}

bool AuthServiceKeySource::FetchOnce() {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.fetch_deadline);
  auth::v1::GetJwksRequest request;
  auth::v1::GetJwksResponse response;
  grpc::Status status = stub_->GetJwks(&context, request, &response);
  if (!status.ok()) {
    Count(FetchResult::kError);
    // gRPC and absl share the canonical codes, and so their names.
    ReportFailure(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
    return false;
  }
  {
    // The same document keeps the same set object, so the verified-token
    // cache (which is bound to the set) survives a routine refresh.
    std::lock_guard<std::mutex> lock(mutex_);
    if (response.jwks_json() == last_jwks_json_) {
      last_fetched_ = std::chrono::steady_clock::now();
      Count(FetchResult::kOk);
      logging::Debug("keys unchanged", {{"source", options_.target}});
      return true;
    }
  }
  auto keys = JwkSet::FromJson(response.jwks_json());
  if (!keys.ok()) {
    Count(FetchResult::kRejected);
    ReportFailure(keys.status().code(),
                  "unusable JWKS: " + std::string(keys.status().message()));
    return false;
  }
  Count(FetchResult::kOk);
  // Every new set is logged, the first and each rotation after it.
  logging::Info("keys loaded",
                {{"source", options_.target}, {"keys", static_cast<uint64_t>(keys->keys().size())}});
  {
    std::lock_guard<std::mutex> lock(mutex_);
    keys_ = std::make_shared<const JwkSet>(*std::move(keys));
    last_jwks_json_ = response.jwks_json();
    last_fetched_ = std::chrono::steady_clock::now();
  }
  KeysChanged();  // after the set is in place: see KeySource::version()
  return true;
}

void AuthServiceKeySource::ReportFailure(absl::StatusCode code, const std::string& reason) {
  ++failures_in_a_row_;
  if (failures_in_a_row_ % kLogEveryNthFailure != 1) return;
  logging::Warn("key fetch failed",
                {{"source", options_.target},
                 {"code", absl::StatusCodeToString(code)},
                 {"reason", reason},
                 {"failures_in_a_row", failures_in_a_row_},
                 {"keys_held", static_cast<uint64_t>(Current()->keys().size())}});
}

void AuthServiceKeySource::Run() {
  bool have_keys = false;
  for (;;) {
    // Only the callers waiting before this fetch starts are answered by it:
    // one who asked during the fetch may need a key published after it
    // began, so it waits for the next fetch (which then starts at once).
    std::vector<std::function<void()>> answered;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      answered.swap(waiters_);
      fetching_ = true;
      fetching_on_demand_ = fetch_requested_;
      fetch_requested_ = false;
    }
    const bool fetched = FetchOnce();
    if (fetched && failures_in_a_row_ > 0) {
      logging::Info("key fetch recovered",
                    {{"source", options_.target}, {"failures", failures_in_a_row_}});
      failures_in_a_row_ = 0;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fetching_ = false;
      answered.insert(answered.end(), std::make_move_iterator(joined_.begin()),
                      std::make_move_iterator(joined_.end()));
      joined_.clear();
    }
    if (fetched && !have_keys) {
      have_keys = true;
      if (options_.on_first_keys) options_.on_first_keys();
    }
    for (auto& done : answered) done();

    std::unique_lock<std::mutex> lock(mutex_);
    const auto wait = fetched ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.refresh_interval)
                              : options_.retry_interval;
    wake_.wait_for(lock, wait, [this] { return stopping_ || fetch_requested_; });
    if (stopping_) return;
  }
}

}  // namespace tollgate
