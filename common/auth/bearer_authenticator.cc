#include "common/auth/bearer_authenticator.h"

#include <array>

#include "absl/strings/ascii.h"
#include "common/metrics/counter_mirror.h"
#include "common/metrics/service_metrics.h"
#include "common/token/jws.h"

namespace tollgate {
namespace {

AuthDecision Reject(AccessDenial::Reason reason, std::string_view method) {
  AuthDecision decision;
  decision.outcome = AuthDecision::Outcome::kReject;
  decision.denial.reason = reason;
  decision.denial.method = std::string(method);
  return decision;
}

AuthDecision Admit(std::shared_ptr<const Identity> caller) {
  AuthDecision decision;
  decision.outcome = AuthDecision::Outcome::kAdmit;
  decision.caller = std::move(caller);
  return decision;
}

// base64url and '.' (ASCII letters and digits, '-', '_', '.'), by byte value.
// BearerToken scans every byte of every call's token, so it is one table load
// per byte and no branch (about half the time of a per-character test).
constexpr std::array<bool, 256> kIsTokenCharacter = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '-' || c == '_' || c == '.';
  }
  return table;
}();

}  // namespace

std::string_view BearerCredential(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return {};
  }
  std::string_view token = value.substr(kScheme.size());
  // Bounds the work an anonymous caller can cause before any parsing.
  if (token.size() > kMaxTokenBytes) return {};
  return token;
}

bool HasOnlyTokenCharacters(std::string_view token) {
  bool all_token_characters = true;
  for (char c : token) all_token_characters &= kIsTokenCharacter[static_cast<unsigned char>(c)];
  return all_token_characters;
}

std::string_view BearerToken(std::string_view value) {
  std::string_view token = BearerCredential(value);
  return HasOnlyTokenCharacters(token) ? token : std::string_view();
}

BearerAuthenticator::BearerAuthenticator(AccessPolicy policy, AccessTokenVerifier verifier,
                                         KeySource& keys, const Clock& clock, Options options)
    : policy_(std::move(policy)),
      verifier_(std::move(verifier)),
      keys_(keys),
      clock_(clock),
      cache_(options.cache_capacity, verifier_.options().leeway_seconds) {
  metrics_ = options.metrics;
  if (options.metrics == nullptr) return;
  GuardMetrics& metrics = *options.metrics;
  // Every series up front, so each reason is scraped from 0 rather than
  // appearing at its first denial (a rate() over a missing series is empty).
  for (AccessDenial::Reason reason : kAllDenialReasons) {
    if (reason == AccessDenial::Reason::kInvalidToken) continue;  // named by its TokenError
    denied_by_reason_[static_cast<size_t>(reason)] = &metrics.AuthDenied(DenialReasonName(reason));
  }
  for (TokenError error : kAllTokenErrors) {
    denied_by_token_error_[static_cast<size_t>(error)] = &metrics.AuthDenied(TokenErrorName(error));
  }
}

void BearerAuthenticator::MirrorCacheCounts(CounterMirror& mirror) const {
  if (metrics_ == nullptr) return;
  mirror.Add(metrics_->token_cache_hits_total, [this] { return cache_hits(); });
  mirror.Add(metrics_->token_cache_misses_total, [this] { return cache_misses(); });
}

TokenResult<std::shared_ptr<const Identity>> BearerAuthenticator::Verify(
    std::string_view token, int64_t now_unix_seconds, uint64_t keys_version) const {
  // The version was read before the set: see KeySource::version().
  const std::shared_ptr<const JwkSet> keys = keys_.Current();
  TokenResult<Identity> verified = verifier_.Verify(token, *keys, now_unix_seconds);
  if (!verified.ok()) return verified.error();
  auto identity = std::make_shared<const Identity>(std::move(verified).value());
  cache_.Insert(token, identity, now_unix_seconds, keys_version);
  return identity;
}

AuthDecision BearerAuthenticator::Decide(std::string_view method_path,
                                         const AuthorizationMetadata& authorization,
                                         bool keys_refreshed) const {
  AuthDecision decision = Judge(method_path, authorization, keys_refreshed);
  if (decision.outcome == AuthDecision::Outcome::kReject) {
    const AccessDenial& denial = decision.denial;
    prometheus::Counter* denied = denial.reason == AccessDenial::Reason::kInvalidToken
                                      ? denied_by_token_error_[static_cast<size_t>(denial.token_error)]
                                      : denied_by_reason_[static_cast<size_t>(denial.reason)];
    if (denied != nullptr) denied->Increment();
  }
  return decision;
}

AuthDecision BearerAuthenticator::Judge(std::string_view method_path,
                                        const AuthorizationMetadata& authorization,
                                        bool keys_refreshed) const {
  const MethodAccess* rule = policy_.Find(method_path);
  if (rule == nullptr) return Reject(AccessDenial::Reason::kMethodNotInPolicy, method_path);

  if (authorization.count == 0) {
    if (rule->is_public) return Admit(nullptr);
    return Reject(AccessDenial::Reason::kMissingAuthorization, method_path);
  }
  // Two values could be read differently by a proxy and by us (which one
  // counts?), so they are refused rather than guessed at.
  const std::string_view token =
      authorization.count == 1 ? BearerCredential(authorization.value) : std::string_view();
  const int64_t now = clock_.NowUnixSeconds();
  const uint64_t keys_version = keys_.version();
  // A cache hit is a token that passed every check before, byte for byte,
  // so the per-byte character scan is only needed on a miss.
  std::shared_ptr<const Identity> cached =
      token.empty() ? nullptr : cache_.Find(token, now, keys_version);
  if (!token.empty()) (cached != nullptr ? cache_hits_ : cache_misses_).Increment();
  if (cached == nullptr && (token.empty() || !HasOnlyTokenCharacters(token))) {
    // A public method ignores a broken header: the caller needs no identity.
    if (rule->is_public) return Admit(nullptr);
    return Reject(AccessDenial::Reason::kMalformedAuthorization, method_path);
  }

  TokenResult<std::shared_ptr<const Identity>> caller =
      cached != nullptr ? TokenResult<std::shared_ptr<const Identity>>(std::move(cached))
                        : Verify(token, now, keys_version);
  if (!caller.ok()) {
    if (caller.error() == TokenError::kUnknownKid && !keys_refreshed) {
      AuthDecision decision;
      decision.outcome = AuthDecision::Outcome::kRetryWithNewKeys;
      return decision;
    }
    if (rule->is_public) return Admit(nullptr);
    AuthDecision decision = Reject(AccessDenial::Reason::kInvalidToken, method_path);
    decision.denial.token_error = caller.error();
    return decision;
  }
  if (!rule->is_public && !caller.value()->HasRole(rule->role)) {
    AuthDecision decision = Reject(AccessDenial::Reason::kMissingRole, method_path);
    decision.denial.role = rule->role;
    return decision;
  }
  return Admit(std::move(caller).value());
}

}  // namespace tollgate
