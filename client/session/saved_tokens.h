#pragma once

#include <cstdint>
#include <string>

#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::client {

// One session's token pair as a TokenStore keeps it. Times are absolute Unix
// seconds, so that a pair saved by one process means the same in another.
struct SavedTokens {
  std::string access_token;
  std::string refresh_token;
  // AuthResponse.expires_in turned into an absolute time when it arrived.
  int64_t access_expires_at_unix_seconds = 0;
  // AuthResponse.expires_in itself (the refresh lead depends on it); 0 when
  // unknown, as in a token file written before it was kept.
  int64_t access_lifetime_seconds = 0;
  // AuthResponse.refresh_expires_in as an absolute time; 0 when unknown.
  int64_t refresh_expires_at_unix_seconds = 0;
  std::string email;

  // The pair of `response`, received at `now_unix_seconds`.
  static SavedTokens FromAuthResponse(const auth::v1::AuthResponse& response,
                                      int64_t now_unix_seconds);
  // A pair that only has a refresh token (from a secrets manager, say): the
  // Session's first call refreshes it.
  static SavedTokens FromRefreshToken(std::string refresh_token);
};

}  // namespace tollgate::client
