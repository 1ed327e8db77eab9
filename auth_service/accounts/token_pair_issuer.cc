#include "auth_service/accounts/token_pair_issuer.h"

#include "auth_service/accounts/user_view.h"

namespace tollgate::auth {

TokenPairIssuer::TokenPairIssuer(const AccessTokenIssuer& access_issuer,
                                 const RefreshTokenCodec& refresh_codec, RandomSource& random,
                                 RefreshLifetimes lifetimes)
    : access_issuer_(access_issuer),
      refresh_codec_(refresh_codec),
      random_(random),
      lifetimes_(lifetimes) {}

absl::StatusOr<FreshRefreshToken> TokenPairIssuer::NewRefreshToken() const {
  auto token = refresh_codec_.NewToken(random_);
  if (!token.ok()) return token.status();
  FreshRefreshToken fresh;
  fresh.session = NewSession{RefreshTokenCodec::HashHex(*token), lifetimes_};
  fresh.token = *std::move(token);
  return fresh;
}

absl::StatusOr<v1::AuthResponse> TokenPairIssuer::Respond(const UserRecord& user,
                                                          std::string refresh_token,
                                                          int64_t refresh_expires_at,
                                                          int64_t now) const {
  auto access = access_issuer_.Issue({user.id, user.email, user.roles}, now);
  if (!access.ok()) return access.status();
  v1::AuthResponse response;
  response.set_access_token(std::move(access->token));
  response.set_token_type("Bearer");
  response.set_expires_in(access->expires_at_unix_seconds - now);
  response.set_refresh_token(std::move(refresh_token));
  response.set_refresh_expires_in(refresh_expires_at - now);
  ToProto(user, response.mutable_user());
  return response;
}

}  // namespace tollgate::auth
