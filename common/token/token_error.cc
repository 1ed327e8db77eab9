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

}  // namespace tollgate
