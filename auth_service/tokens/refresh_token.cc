#include "auth_service/tokens/refresh_token.h"

#include "auth_service/tokens/opaque_token.h"
#include "common/token/base64url.h"

namespace tollgate::auth {

RefreshTokenCodec::RefreshTokenCodec(std::string successor_key)
    : successor_key_(std::move(successor_key)) {}

absl::StatusOr<std::string> RefreshTokenCodec::NewToken(RandomSource& random) const {
  return NewOpaqueToken(kPrefix, random);
}

std::string RefreshTokenCodec::Successor(std::string_view token) const {
  return std::string(kPrefix) +
         Base64UrlEncode(HmacSha256(successor_key_, "tollgate refresh successor v1", token));
}

bool RefreshTokenCodec::LooksValid(std::string_view token) {
  return HasOpaqueTokenShape(kPrefix, token);
}

std::string RefreshTokenCodec::HashHex(std::string_view token) { return Sha256Hex(token); }

}  // namespace tollgate::auth
