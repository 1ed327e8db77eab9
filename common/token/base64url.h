#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollgate {

// base64url without padding (RFC 7515 section 2, RFC 4648 section 5).
std::string Base64UrlEncode(std::string_view bytes);

// Strict decoding: returns nullopt on padding, whitespace, any character
// outside [A-Za-z0-9_-], an impossible length (4n+1), or non-zero unused
// trailing bits. Strictness keeps one token to one encoding, so a signature
// or a cache key cannot be varied by re-encoding the same bytes.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace tollgate
