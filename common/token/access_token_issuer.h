#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/random_source.h"
#include "common/token/jwk.h"

namespace tollgate {

struct AccessTokenOptions {
  std::string issuer = "tollgate";
  std::string audience = "tollgate";
  int64_t ttl_seconds = 900;
};

// The account an access token is issued for.
struct TokenSubject {
  std::string subject;  // user id
  std::string email;
  std::vector<std::string> roles;
};

struct IssuedAccessToken {
  std::string token;
  std::string token_id;  // jti: safe to log, unlike the token
  int64_t expires_at_unix_seconds = 0;
};

// Mints RFC 9068 access tokens (SPEC section 4): header {alg, kid, typ:
// at+jwt}, claims iss, aud, sub, exp, iat, nbf, jti, roles, email. The
// algorithm is the signing key's. Thread-safe if the RandomSource is.
class AccessTokenIssuer {
 public:
  // `random` must outlive the issuer.
  AccessTokenIssuer(Jwk signing_key, AccessTokenOptions options, RandomSource& random);

  // FAILED_PRECONDITION if the key cannot sign; INTERNAL if randomness or
  // OpenSSL fails.
  [[nodiscard]] absl::StatusOr<IssuedAccessToken> Issue(const TokenSubject& subject,
                                                        int64_t now_unix_seconds) const;

  const Jwk& signing_key() const { return signing_key_; }
  const AccessTokenOptions& options() const { return options_; }

 private:
  static constexpr size_t kTokenIdBytes = 16;

  Jwk signing_key_;
  AccessTokenOptions options_;
  RandomSource& random_;
};

}  // namespace tollgate
