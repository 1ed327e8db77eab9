#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/config/settings.h"

namespace tollgate::config {

// The settings of the tokens that AuthService issues and every service
// verifies. They have no service prefix: both services read the same
// variables, since a token one issues must pass the other's checks.
struct TokenSettings {
  Setting jwt_secret_key;  // HS256 shared secret; never logged
  Setting issuer;          // `iss`
  Setting audience;        // `aud`
  Setting leeway;          // seconds [0, 300]
};

inline constexpr TokenSettings kTokenSettings{
    .jwt_secret_key = {"jwt-secret-key", "JWT_SECRET_KEY", "", "unset",
                       "HS256 shared secret, at least 32 bytes; never published "
                       "(prefer the variable)",
                       Secrecy::kSecret},
    .issuer = {"token-issuer", "TOKEN_ISSUER", "tollgate", "",
               "`iss` that AuthService issues and every verifier requires"},
    .audience = {"token-audience", "TOKEN_AUDIENCE", "tollgate", "",
                 "`aud` that AuthService issues and every verifier requires"},
    .leeway = {"token-leeway", "TOKEN_LEEWAY", "30", "", "clock leeway, seconds [0, 300]"},
};

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash.
inline constexpr size_t kMinJwtSecretKeyBytes = 32;

// OK for an unset (empty) key or one of at least kMinJwtSecretKeyBytes;
// INVALID_ARGUMENT naming JWT_SECRET_KEY and the length (never the key)
// for a shorter one, which brute force could find.
[[nodiscard]] absl::Status CheckJwtSecretKeyLength(const std::string& key);

// Whole seconds in [0, 300]; INVALID_ARGUMENT naming TOKEN_LEEWAY else.
[[nodiscard]] absl::StatusOr<int64_t> ParseTokenLeewaySeconds(const RawSettings& raw);

}  // namespace tollgate::config
