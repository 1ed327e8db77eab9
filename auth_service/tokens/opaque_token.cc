#include "auth_service/tokens/opaque_token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/token/base64url.h"

namespace tollgate::auth {

absl::StatusOr<std::string> NewOpaqueToken(std::string_view prefix, RandomSource& random) {
  auto bytes = random.Bytes(kOpaqueTokenRandomBytes);
  if (!bytes.ok()) return bytes.status();
  return std::string(prefix) + Base64UrlEncode(*bytes);
}

bool HasOpaqueTokenShape(std::string_view prefix, std::string_view token) {
  constexpr size_t kEncodedBytes = (kOpaqueTokenRandomBytes * 4 + 2) / 3;  // 43
  if (token.size() != prefix.size() + kEncodedBytes || token.substr(0, prefix.size()) != prefix) {
    return false;
  }
  return Base64UrlDecode(token.substr(prefix.size())).has_value();
}

std::string HmacSha256(std::string_view key, std::string_view domain, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const std::string input = std::string(domain) + "\n" + std::string(message);
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return HexOf(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace tollgate::auth
