#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/token/identity.h"
#include "common/token/jwk_set.h"
#include "common/token/token_error.h"
#include "nlohmann/json.hpp"

namespace tollgate {

// NumericDate values beyond 9999-12-31 or before 1970 are refused as absurd:
// they only appear in forged or broken tokens and invite overflow.
inline constexpr int64_t kMaxNumericDate = 253402300799;

struct AccessTokenVerifierOptions {
  std::string issuer = "tollgate";
  std::string audience = "tollgate";
  int64_t leeway_seconds = 30;
};

// Checks exp (required), nbf and iat (optional) of a claims object:
// kMissingClaim without exp; kInvalidTimeClaim for a non-integer or absurd
// value; kExpired when now >= exp + leeway; kNotYetValid when now + leeway <
// nbf or now + leeway < iat. nullopt when all pass.
std::optional<TokenError> CheckTimeClaims(const nlohmann::json& claims, int64_t now_unix_seconds,
                                          int64_t leeway_seconds);

// Verifies access tokens exactly as SPEC section 4 says. Pure: the keys and
// the time are arguments, so one verifier serves rotating key sets and tests
// inject any clock. Thread-safe.
class AccessTokenVerifier {
 public:
  explicit AccessTokenVerifier(AccessTokenVerifierOptions options);

  // Everything JwsVerifyCompact checks (with typ at+jwt), then iss
  // (kWrongIssuer), aud as a string or an array (kWrongAudience), the time
  // claims with iat required, and sub/jti non-empty strings, roles an array
  // of strings, email a string (kMissingClaim, kInvalidClaim).
  TokenResult<Identity> Verify(std::string_view token, const JwkSet& keys,
                               int64_t now_unix_seconds) const;

  const AccessTokenVerifierOptions& options() const { return options_; }

 private:
  AccessTokenVerifierOptions options_;
};

}  // namespace tollgate
