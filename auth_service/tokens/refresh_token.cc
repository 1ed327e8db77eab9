#include "auth_service/tokens/refresh_token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/token/base64url.h"

namespace tollgate::auth {
namespace {

std::string Hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

}  // namespace

RefreshTokenCodec::RefreshTokenCodec(std::string successor_key)
    : successor_key_(std::move(successor_key)) {}

absl::StatusOr<std::string> RefreshTokenCodec::NewToken(RandomSource& random) const {
  auto bytes = random.Bytes(kRandomBytes);
  if (!bytes.ok()) return bytes.status();
  return std::string(kPrefix) + Base64UrlEncode(*bytes);
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
  constexpr size_t kEncodedBytes = (kRandomBytes * 4 + 2) / 3;  // 43
  if (token.size() != kPrefix.size() + kEncodedBytes || token.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  return Base64UrlDecode(token.substr(kPrefix.size())).has_value();
}

std::string RefreshTokenCodec::HashHex(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return Hex(digest, sizeof(digest));
}

}  // namespace tollgate::auth
