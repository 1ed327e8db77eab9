#include "auth_service/tokens/refresh_token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth_service/tokens/opaque_token.h"
#include "common/token/base64url.h"

namespace tollgate::auth {

RefreshTokenCodec::RefreshTokenCodec(std::string successor_key)
    : successor_key_(std::move(successor_key)) {}

absl::StatusOr<std::string> RefreshTokenCodec::NewToken(RandomSource& random) const {
  return NewOpaqueToken(kPrefix, random);
}

std::string RefreshTokenCodec::Successor(std::string_view token) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // Domain-separated so this key can never be confused with another use.
  const std::string input = "tollgate refresh successor v1\n" + std::string(token);
  HMAC(EVP_sha256(), successor_key_.data(), static_cast<int>(successor_key_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
  return std::string(kPrefix) +
         Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), size));
}

bool RefreshTokenCodec::LooksValid(std::string_view token) {
  return HasOpaqueTokenShape(kPrefix, token);
}

std::string RefreshTokenCodec::HashHex(std::string_view token) { return Sha256Hex(token); }

}  // namespace tollgate::auth
