#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tollgate::client {

// The `exp` claim of a JWT access token, read WITHOUT checking its
// signature: a client only uses it to know when to renew the token it was
// given, never to trust it. nullopt when the token is not a JWT with an
// integer `exp` (an opaque token; the Session then goes by expires_in).
//
// Why the Session needs it as well as AuthResponse.expires_in: `exp` is in
// whole seconds, so a token issued at 12:00:00.900 with expires_in 3 dies at
// 12:00:03.000, not 12:00:03.900. For a 3-second token renewed when 0.3 s
// is left, that difference is a call refused.
[[nodiscard]] std::optional<int64_t> UnverifiedExpiryUnixSeconds(std::string_view token);

}  // namespace tollgate::client
