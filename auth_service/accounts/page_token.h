#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auth_service/store/user_record.h"

namespace tollgate::auth {

// ListUsers' next_page_token: the position after the last user of a page,
// sealed with an HMAC-SHA256 under a key shared by every replica, so a
// client can neither read it as a query nor forge one (AIP-158: page tokens
// are opaque). base64url("v1" | created_at | id) "." base64url(mac).
class PageTokenCodec final {
 public:
  // `key`: at least 32 bytes.
  explicit PageTokenCodec(std::string key);

  std::string Encode(const UserCursor& cursor) const;
  // INVALID_ARGUMENT "page_token: not a token from this API" for anything
  // that Encode did not make with this key.
  [[nodiscard]] absl::StatusOr<UserCursor> Decode(std::string_view token) const;

 private:
  std::string Mac(std::string_view payload) const;

  std::string key_;
};

}  // namespace tollgate::auth
