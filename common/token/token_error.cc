#include "common/token/token_error.h"

namespace tollgate {

std::string_view ToString(TokenError error) {
  switch (error) {
    case TokenError::kTooLarge: return "token too large";
    case TokenError::kMalformed: return "malformed token";
    case TokenError::kDuplicateMember: return "duplicate JSON member name";
    case TokenError::kUnsecuredAlgorithm: return "unsecured algorithm 'none' is not accepted";
    case TokenError::kUnsupportedAlgorithm: return "unsupported algorithm";
    case TokenError::kAlgorithmMismatch: return "algorithm does not match the key";
    case TokenError::kUnknownKid: return "unknown key id";
    case TokenError::kEmbeddedKey: return "token-supplied keys (jku, x5u, jwk, x5c) are not accepted";
    case TokenError::kUnknownCritical: return "unknown critical header parameter";
    case TokenError::kWrongType: return "wrong token type (typ must be at+jwt)";
    case TokenError::kBadSignature: return "bad signature";
    case TokenError::kWrongIssuer: return "wrong issuer";
    case TokenError::kWrongAudience: return "wrong audience";
    case TokenError::kMissingClaim: return "missing required claim";
    case TokenError::kInvalidClaim: return "invalid claim";
    case TokenError::kInvalidTimeClaim: return "invalid time claim";
    case TokenError::kExpired: return "token expired";
    case TokenError::kNotYetValid: return "token not yet valid";
  }
  return "unknown token error";
}

namespace {
constexpr bool IndexedByValue() {
  for (size_t i = 0; i < kTokenErrorCount; ++i) {
    if (static_cast<size_t>(kAllTokenErrors[i]) != i) return false;
  }
  return true;
}
static_assert(IndexedByValue(), "kAllTokenErrors must list every TokenError in order");
}  // namespace

std::string_view TokenErrorName(TokenError error) {
  switch (error) {
    case TokenError::kTooLarge: return "too_large";
    case TokenError::kMalformed: return "malformed";
    case TokenError::kDuplicateMember: return "duplicate_member";
    case TokenError::kUnsecuredAlgorithm: return "unsecured_algorithm";
    case TokenError::kUnsupportedAlgorithm: return "unsupported_algorithm";
    case TokenError::kAlgorithmMismatch: return "algorithm_mismatch";
    case TokenError::kUnknownKid: return "unknown_kid";
    case TokenError::kEmbeddedKey: return "embedded_key";
    case TokenError::kUnknownCritical: return "unknown_critical";
    case TokenError::kWrongType: return "wrong_type";
    case TokenError::kBadSignature: return "bad_signature";
    case TokenError::kWrongIssuer: return "wrong_issuer";
    case TokenError::kWrongAudience: return "wrong_audience";
    case TokenError::kMissingClaim: return "missing_claim";
    case TokenError::kInvalidClaim: return "invalid_claim";
    case TokenError::kInvalidTimeClaim: return "invalid_time_claim";
    case TokenError::kExpired: return "expired";
    case TokenError::kNotYetValid: return "not_yet_valid";
  }
  return "unknown";
}

}  // namespace tollgate
