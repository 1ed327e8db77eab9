#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/random_source.h"

namespace tollgate::auth {

// Opaque refresh tokens (SPEC section 4): "tgr_" + base64url of 32 random
// bytes (tokens/opaque_token.h). The prefix lets secret scanners spot leaked tokens; the database
// keeps only the SHA-256, so a stolen table mints no sessions.
class RefreshTokenCodec {
 public:
  static constexpr std::string_view kPrefix = "tgr_";
  static constexpr size_t kMinSuccessorKeyBytes = 32;

  // `successor_key` is the HMAC key shared by every replica (kept in the
  // database): the successor of a token is HMAC(key, token), so every racing
  // replica and every retry inside the grace window derives the very same
  // successor without any raw token being stored.
  explicit RefreshTokenCodec(std::string successor_key);

  [[nodiscard]] absl::StatusOr<std::string> NewToken(RandomSource& random) const;
  std::string Successor(std::string_view token) const;

  // True when `token` has the shape of one of ours; anything else is refused
  // before it costs a database round trip.
  static bool LooksValid(std::string_view token);
  // Lower-case hex of SHA-256(token): the database key.
  static std::string HashHex(std::string_view token);

 private:
  std::string successor_key_;
};

}  // namespace tollgate::auth
