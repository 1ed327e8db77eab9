#include "common/token/access_token_issuer.h"

#include "common/token/base64url.h"
#include "common/token/jws.h"
#include "nlohmann/json.hpp"

namespace tollgate {

AccessTokenIssuer::AccessTokenIssuer(Jwk signing_key, AccessTokenOptions options,
                                     RandomSource& random)
    : signing_key_(std::move(signing_key)), options_(std::move(options)), random_(random) {}

absl::StatusOr<IssuedAccessToken> AccessTokenIssuer::Issue(const TokenSubject& subject,
                                                           int64_t now_unix_seconds) const {
  auto id_bytes = random_.Bytes(kTokenIdBytes);
  if (!id_bytes.ok()) return id_bytes.status();

  IssuedAccessToken issued;
  issued.token_id = Base64UrlEncode(*id_bytes);
  issued.expires_at_unix_seconds = now_unix_seconds + options_.ttl_seconds;
  const nlohmann::json header = {
      {"alg", AlgorithmName(signing_key_.algorithm())}, {"kid", signing_key_.kid()}, {"typ", "at+jwt"}};
  const nlohmann::json claims = {
      {"iss", options_.issuer},      {"aud", options_.audience},
      {"sub", subject.subject},      {"exp", issued.expires_at_unix_seconds},
      {"iat", now_unix_seconds},     {"nbf", now_unix_seconds},
      {"jti", issued.token_id},      {"roles", subject.roles},
      {"email", subject.email}};
  auto token = JwsSignCompact(signing_key_, header.dump(), claims.dump());
  if (!token.ok()) return token.status();
  issued.token = *std::move(token);
  return issued;
}

}  // namespace tollgate
