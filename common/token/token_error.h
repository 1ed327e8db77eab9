#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>
#include <utility>
#include <variant>

namespace tollgate {

// Why a token was refused. Each value names exactly one failed check, so logs
// and tests can tell attacks apart; one function (in the interceptor) maps
// them to gRPC statuses.
enum class TokenError {
  kTooLarge,              // over kMaxTokenBytes: refused before any parsing
  kMalformed,             // not three base64url segments, or not JSON objects
  kDuplicateMember,       // a JSON object names a member twice (parser confusion)
  kUnsecuredAlgorithm,    // alg "none": an unsigned token
  kUnsupportedAlgorithm,  // alg missing or not one we implement
  kAlgorithmMismatch,     // alg differs from the selected key's algorithm
  kUnknownKid,            // no key with that kid (or no kid and several keys)
  kEmbeddedKey,           // jku/x5u/jwk/x5c: the token tries to pick its own key
  kUnknownCritical,       // crit names an extension we do not implement
  kWrongType,             // typ is not at+jwt
  kBadSignature,          // signature does not verify with the selected key
  kWrongIssuer,           // iss is not the configured issuer
  kWrongAudience,         // aud does not contain the configured audience
  kMissingClaim,          // a required claim (sub, exp, iat, jti, ...) is absent
  kInvalidClaim,          // a claim has the wrong JSON type
  kInvalidTimeClaim,      // exp/nbf/iat not an integer or absurdly out of range
  kExpired,               // now is past exp plus the leeway
  kNotYetValid,           // nbf (or iat) is in the future beyond the leeway
};

// Stable lower-case text for the "invalid token: <reason>" message.
std::string_view ToString(TokenError error);

// The enumerator's name in snake_case without the "k" ("expired",
// "bad_signature", "unknown_kid"): a stable identifier for metric labels and
// log fields, where ToString's phrase would not do.
std::string_view TokenErrorName(TokenError error);

// Every TokenError in declaration order; kAllTokenErrors[i] has the value i,
// so code that keeps one entry per error can index an array by it.
inline constexpr TokenError kAllTokenErrors[] = {
    TokenError::kTooLarge, TokenError::kMalformed, TokenError::kDuplicateMember,
    TokenError::kUnsecuredAlgorithm, TokenError::kUnsupportedAlgorithm,
    TokenError::kAlgorithmMismatch, TokenError::kUnknownKid, TokenError::kEmbeddedKey,
    TokenError::kUnknownCritical, TokenError::kWrongType, TokenError::kBadSignature,
    TokenError::kWrongIssuer, TokenError::kWrongAudience, TokenError::kMissingClaim,
    TokenError::kInvalidClaim, TokenError::kInvalidTimeClaim, TokenError::kExpired,
    TokenError::kNotYetValid,
};
inline constexpr size_t kTokenErrorCount = std::size(kAllTokenErrors);

// Either a value or the TokenError that prevented it.
template <typename T>
class [[nodiscard]] TokenResult {
 public:
  TokenResult(T value) : state_(std::move(value)) {}       // NOLINT: implicit by design
  TokenResult(TokenError error) : state_(error) {}         // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  // Only meaningful when !ok().
  TokenError error() const { return std::get<TokenError>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }

 private:
  std::variant<T, TokenError> state_;
};

}  // namespace tollgate
