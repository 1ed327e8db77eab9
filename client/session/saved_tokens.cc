#include "client/session/saved_tokens.h"

#include <utility>

namespace tollgate::client {

SavedTokens SavedTokens::FromAuthResponse(const auth::v1::AuthResponse& response,
                                          int64_t now_unix_seconds) {
  SavedTokens tokens;
  tokens.access_token = response.access_token();
  tokens.refresh_token = response.refresh_token();
  tokens.access_expires_at_unix_seconds = now_unix_seconds + response.expires_in();
  tokens.access_lifetime_seconds = response.expires_in();
  if (response.refresh_expires_in() > 0) {
    tokens.refresh_expires_at_unix_seconds = now_unix_seconds + response.refresh_expires_in();
  }
  tokens.email = response.user().email();
  return tokens;
}

SavedTokens SavedTokens::FromRefreshToken(std::string refresh_token) {
  SavedTokens tokens;
  tokens.refresh_token = std::move(refresh_token);
  return tokens;
}

}  // namespace tollgate::client
