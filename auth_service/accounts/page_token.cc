#include "auth_service/accounts/page_token.h"

#include <openssl/crypto.h>

#include <charconv>

#include "auth_service/tokens/opaque_token.h"
#include "common/token/base64url.h"

namespace tollgate::auth {
namespace {

constexpr std::string_view kVersion = "v1";

absl::Status NotOurs() {
  return absl::InvalidArgumentError("page_token: not a token from this API");
}

}  // namespace

PageTokenCodec::PageTokenCodec(std::string key) : key_(std::move(key)) {}

std::string PageTokenCodec::Mac(std::string_view payload) const {
  return HmacSha256(key_, "tollgate list-users page v1", payload);
}

std::string PageTokenCodec::Encode(const UserCursor& cursor) const {
  const std::string payload =
      std::string(kVersion) + "|" + std::to_string(cursor.created_at) + "|" + cursor.id;
  return Base64UrlEncode(payload) + "." + Base64UrlEncode(Mac(payload));
}

absl::StatusOr<UserCursor> PageTokenCodec::Decode(std::string_view token) const {
  if (token.size() > 256) return NotOurs();
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos) return NotOurs();
  const auto payload = Base64UrlDecode(token.substr(0, dot));
  const auto mac = Base64UrlDecode(token.substr(dot + 1));
  if (!payload.has_value() || !mac.has_value()) return NotOurs();
  const std::string expected = Mac(*payload);
  if (mac->size() != expected.size() ||
      CRYPTO_memcmp(mac->data(), expected.data(), expected.size()) != 0) {
    return NotOurs();
  }
  // Authentic, so well formed; parsed defensively all the same.
  const std::string_view text = *payload;
  const size_t first = text.find('|');
  const size_t second = text.find('|', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos ||
      text.substr(0, first) != kVersion) {
    return NotOurs();
  }
  UserCursor cursor;
  const std::string_view created = text.substr(first + 1, second - first - 1);
  if (std::from_chars(created.data(), created.data() + created.size(), cursor.created_at).ec !=
      std::errc()) {
    return NotOurs();
  }
  cursor.id = std::string(text.substr(second + 1));
  return cursor;
}

}  // namespace tollgate::auth
