#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/auth/access_denial.h"
#include "common/auth/access_policy.h"
#include "common/auth/verified_token_cache.h"
#include "common/clock.h"
#include "common/keys/key_source.h"
#include "common/metrics/sharded_counter.h"
#include "common/token/access_token_verifier.h"
#include "common/token/identity.h"

namespace prometheus {
class Counter;
}  // namespace prometheus

namespace tollgate {

class CounterMirror;
struct GuardMetrics;

// What the interceptor should do with one call.
struct AuthDecision {
  enum class Outcome {
    kAdmit,             // run the handler; `caller` may be null on a public method
    kReject,            // end the call with ToGrpcStatus(denial)
    kRetryWithNewKeys,  // unknown kid: ask the KeySource, then decide again
  };
  Outcome outcome = Outcome::kReject;
  std::shared_ptr<const Identity> caller;
  AccessDenial denial;
};

// The `authorization` metadata of a call, as the transport delivered it.
struct AuthorizationMetadata {
  int count = 0;             // how many `authorization` entries
  std::string_view value;    // the first one
};

// Decides calls: the method's rule from the policy, the bearer token from the
// metadata, verification (through the cache) against the KeySource's keys,
// and the role check. Pure apart from the cache and the counters;
// thread-safe. The interceptor is its only gRPC-facing user.
//
// Counts every kReject decision in tollgate_auth_denied_total{reason=
// DenialReasonName} (with Options::metrics), and every cache lookup of a
// token as a hit or a miss (a call whose kid is unknown is decided, and
// looked up, more than once; a call without a token is not looked up). The
// lookups are counted on every admitted call, so in per-thread shards
// rather than in prometheus counters (see ShardedCounter); MirrorCacheCounts
// has a scrape carry them into tollgate_token_cache_{hits,misses}_total.
class BearerAuthenticator final {
 public:
  struct Options {
    size_t cache_capacity = 10000;
    // Where the decisions are counted; null: nowhere. Must outlive the
    // authenticator.
    GuardMetrics* metrics = nullptr;
  };
  // `keys` and `clock` must outlive the authenticator.
  BearerAuthenticator(AccessPolicy policy, AccessTokenVerifier verifier, KeySource& keys,
                      const Clock& clock, Options options);

  // `keys_refreshed`: the KeySource was already asked for new keys for this
  // call, so an unknown kid is now final.
  AuthDecision Decide(std::string_view method_path, const AuthorizationMetadata& authorization,
                      bool keys_refreshed) const;

  const AccessPolicy& policy() const { return policy_; }
  KeySource& keys() const { return keys_; }
  size_t cached_tokens() const { return cache_.size(); }
  uint64_t cache_hits() const { return cache_hits_.Total(); }
  uint64_t cache_misses() const { return cache_misses_.Total(); }

  // Has each Collect() of `mirror` advance Options::metrics' token-cache
  // counters to cache_hits() and cache_misses() (nothing without metrics).
  // The authenticator must outlive the mirror's scrapes.
  void MirrorCacheCounts(CounterMirror& mirror) const;

 private:
  // Decide without the denial count.
  AuthDecision Judge(std::string_view method_path, const AuthorizationMetadata& authorization,
                     bool keys_refreshed) const;
  // Verifies `token` with `keys` and caches the result.
  TokenResult<std::shared_ptr<const Identity>> Verify(std::string_view token, int64_t now_unix_seconds,
                                                      uint64_t keys_version) const;

  const AccessPolicy policy_;
  const AccessTokenVerifier verifier_;
  KeySource& keys_;
  const Clock& clock_;
  mutable VerifiedTokenCache cache_;

  mutable ShardedCounter cache_hits_;
  mutable ShardedCounter cache_misses_;
  GuardMetrics* metrics_ = nullptr;  // Options::metrics
  // Null without Options::metrics. The denial series are resolved here, one
  // per reason and one per TokenError, so counting a denial is an array
  // index and an atomic add, with no label lookup on the call path.
  std::array<prometheus::Counter*, kDenialReasonCount> denied_by_reason_{};
  std::array<prometheus::Counter*, kTokenErrorCount> denied_by_token_error_{};
};

// The token of an `authorization: Bearer <token>` value, or an empty view
// when the value is not exactly that: the scheme is matched
// case-insensitively (RFC 7235), then one space, then a token of base64url
// and '.' characters, at most kMaxTokenBytes long.
std::string_view BearerToken(std::string_view authorization_value);

// BearerToken in two steps, so the character scan can be skipped for a token
// the cache already knows: the scheme and the size, then the characters.
std::string_view BearerCredential(std::string_view authorization_value);
bool HasOnlyTokenCharacters(std::string_view token);

}  // namespace tollgate
