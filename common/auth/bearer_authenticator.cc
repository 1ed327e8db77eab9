#include "common/auth/bearer_authenticator.h"

#include "absl/strings/ascii.h"
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

bool IsTokenCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

}  // namespace

std::string_view BearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return {};
  }
  std::string_view token = value.substr(kScheme.size());
  // Bounds the work an anonymous caller can cause before any parsing.
  if (token.size() > kMaxTokenBytes) return {};
  for (char c : token) {
    if (!IsTokenCharacter(c)) return {};
  }
  return token;
}

BearerAuthenticator::BearerAuthenticator(AccessPolicy policy, AccessTokenVerifier verifier,
                                         KeySource& keys, const Clock& clock, Options options)
    : policy_(std::move(policy)),
      verifier_(std::move(verifier)),
      keys_(keys),
      clock_(clock),
      cache_(options.cache_capacity, verifier_.options().leeway_seconds) {}

TokenResult<std::shared_ptr<const Identity>> BearerAuthenticator::Verify(std::string_view token) const {
  const int64_t now = clock_.NowUnixSeconds();
  std::shared_ptr<const JwkSet> keys = keys_.Current();
  if (auto cached = cache_.Find(token, now, keys.get())) return cached;
  TokenResult<Identity> verified = verifier_.Verify(token, *keys, now);
  if (!verified.ok()) return verified.error();
  auto identity = std::make_shared<const Identity>(std::move(verified).value());
  cache_.Insert(token, identity, now, std::move(keys));
  return identity;
}

AuthDecision BearerAuthenticator::Decide(std::string_view method_path,
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
      authorization.count == 1 ? BearerToken(authorization.value) : std::string_view();
  if (token.empty()) {
    // A public method ignores a broken header: the caller needs no identity.
    if (rule->is_public) return Admit(nullptr);
    return Reject(AccessDenial::Reason::kMalformedAuthorization, method_path);
  }

  TokenResult<std::shared_ptr<const Identity>> caller = Verify(token);
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
