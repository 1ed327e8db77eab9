#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/random_source.h"

namespace tollgate::auth {

// The shape shared by every opaque secret AuthService hands out (SPEC
// section 4): a kind prefix ("tgr_" refresh token, "tgp_" password-reset
// code, "tge_" email-verification code) and the base64url of 32 random
// bytes. The prefix lets secret scanners and support staff tell them apart;
// the database keeps only the SHA-256, so a stolen table is worth nothing.
inline constexpr size_t kOpaqueTokenRandomBytes = 32;  // 256 bits

// `prefix` + base64url(32 random bytes); INTERNAL when the generator fails.
[[nodiscard]] absl::StatusOr<std::string> NewOpaqueToken(std::string_view prefix,
                                                         RandomSource& random);

// True when `token` is `prefix` followed by 43 base64url characters that
// decode to 32 bytes. Anything else is refused before it costs a database
// round trip.
bool HasOpaqueTokenShape(std::string_view prefix, std::string_view token);

// Lower-case hex of SHA-256(`text`): how tokens and codes are stored.
std::string Sha256Hex(std::string_view text);

// HMAC-SHA256 under `key` of `domain` + "\n" + `message` (raw 32 bytes).
// The domain ("tollgate refresh successor v1") keeps one key's MACs for one
// purpose from ever standing in for another's.
std::string HmacSha256(std::string_view key, std::string_view domain, std::string_view message);

// Lower-case hex of `bytes`.
std::string HexOf(std::string_view bytes);

}  // namespace tollgate::auth
