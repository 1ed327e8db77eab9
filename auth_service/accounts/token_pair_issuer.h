#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "auth_service/store/user_record.h"
#include "auth_service/tokens/refresh_token.h"
#include "common/random_source.h"
#include "common/token/access_token_issuer.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::auth {

// A refresh token about to be stored: the token for the client, its hash
// for the database.
struct FreshRefreshToken {
  std::string token;
  NewSession session;
};

// Mints what every call that starts or continues a session returns: a new
// refresh token, and the AuthResponse with a signed access token.
class TokenPairIssuer final {
 public:
  // All must outlive the issuer.
  TokenPairIssuer(const AccessTokenIssuer& access_issuer, const RefreshTokenCodec& refresh_codec,
                  RandomSource& random, RefreshLifetimes lifetimes);

  // INTERNAL when the random generator fails.
  [[nodiscard]] absl::StatusOr<FreshRefreshToken> NewRefreshToken() const;

  // The reply for `user` with `refresh_token` (expiring at
  // `refresh_expires_at`) and a new access token.
  [[nodiscard]] absl::StatusOr<v1::AuthResponse> Respond(const UserRecord& user,
                                                         std::string refresh_token,
                                                         int64_t refresh_expires_at,
                                                         int64_t now) const;

  const RefreshTokenCodec& refresh_codec() const { return refresh_codec_; }
  const RefreshLifetimes& lifetimes() const { return lifetimes_; }

 private:
  const AccessTokenIssuer& access_issuer_;
  const RefreshTokenCodec& refresh_codec_;
  RandomSource& random_;
  const RefreshLifetimes lifetimes_;
};

}  // namespace tollgate::auth
