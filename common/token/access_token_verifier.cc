#include "common/token/access_token_verifier.h"

#include "common/token/jws.h"

namespace tollgate {
namespace {

constexpr std::string_view kAccessTokenType = "at+jwt";

// Reads a NumericDate claim. A missing claim is nullopt with no error.
TokenResult<std::optional<int64_t>> TimeClaim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::optional<int64_t>();
  // Floats, booleans and strings are refused: 1.7e9 and "1700000000" are
  // parsed differently by different libraries.
  if (it->is_number_unsigned()) {
    const uint64_t value = it->get<uint64_t>();
    if (value > static_cast<uint64_t>(kMaxNumericDate)) return TokenError::kInvalidTimeClaim;
    return std::optional<int64_t>(static_cast<int64_t>(value));
  }
  if (it->is_number_integer()) {
    const int64_t value = it->get<int64_t>();
    if (value < 0 || value > kMaxNumericDate) return TokenError::kInvalidTimeClaim;
    return std::optional<int64_t>(value);
  }
  return TokenError::kInvalidTimeClaim;
}

// A required non-empty string claim.
TokenResult<std::string> StringClaim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return TokenError::kMissingClaim;
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return TokenError::kInvalidClaim;
  }
  return it->get<std::string>();
}

}  // namespace

std::optional<TokenError> CheckTimeClaims(const nlohmann::json& claims, int64_t now_unix_seconds,
                                          int64_t leeway_seconds) {
  const auto exp = TimeClaim(claims, "exp");
  if (!exp.ok()) return exp.error();
  if (!exp.value()) return TokenError::kMissingClaim;
  const auto nbf = TimeClaim(claims, "nbf");
  if (!nbf.ok()) return nbf.error();
  const auto iat = TimeClaim(claims, "iat");
  if (!iat.ok()) return iat.error();

  if (now_unix_seconds >= *exp.value() + leeway_seconds) return TokenError::kExpired;
  if (nbf.value() && now_unix_seconds + leeway_seconds < *nbf.value()) {
    return TokenError::kNotYetValid;
  }
  // A token issued in the future comes from a broken clock or a forger.
  if (iat.value() && now_unix_seconds + leeway_seconds < *iat.value()) {
    return TokenError::kNotYetValid;
  }
  return std::nullopt;
}

AccessTokenVerifier::AccessTokenVerifier(AccessTokenVerifierOptions options)
    : options_(std::move(options)) {}

TokenResult<Identity> AccessTokenVerifier::Verify(std::string_view token, const JwkSet& keys,
                                                  int64_t now_unix_seconds) const {
  auto jws = JwsVerifyCompact(token, keys, kAccessTokenType);
  if (!jws.ok()) return jws.error();
  const nlohmann::json& claims = jws.value().payload;

  const auto issuer = StringClaim(claims, "iss");
  if (!issuer.ok()) return issuer.error();
  if (issuer.value() != options_.issuer) return TokenError::kWrongIssuer;

  // RFC 7519 section 4.1.3: aud is a string or an array of strings.
  const auto aud = claims.find("aud");
  if (aud == claims.end()) return TokenError::kMissingClaim;
  bool audience_matches = false;
  if (aud->is_string()) {
    audience_matches = *aud == options_.audience;
  } else if (aud->is_array()) {
    for (const auto& entry : *aud) {
      if (!entry.is_string()) return TokenError::kInvalidClaim;
      audience_matches = audience_matches || entry == options_.audience;
    }
  } else {
    return TokenError::kInvalidClaim;
  }
  if (!audience_matches) return TokenError::kWrongAudience;

  if (!claims.contains("iat")) return TokenError::kMissingClaim;
  if (auto time_error = CheckTimeClaims(claims, now_unix_seconds, options_.leeway_seconds)) {
    return *time_error;
  }

  Identity identity;
  auto subject = StringClaim(claims, "sub");
  if (!subject.ok()) return subject.error();
  identity.subject_ = std::move(subject).value();
  auto token_id = StringClaim(claims, "jti");
  if (!token_id.ok()) return token_id.error();
  identity.token_id_ = std::move(token_id).value();
  identity.expires_at_unix_seconds_ = claims["exp"].get<int64_t>();

  if (const auto email = claims.find("email"); email != claims.end()) {
    if (!email->is_string()) return TokenError::kInvalidClaim;
    identity.email_ = email->get<std::string>();
  }
  if (const auto roles = claims.find("roles"); roles != claims.end()) {
    if (!roles->is_array()) return TokenError::kInvalidClaim;
    for (const auto& role : *roles) {
      if (!role.is_string()) return TokenError::kInvalidClaim;
      identity.roles_.push_back(role.get<std::string>());
    }
  }
  return identity;
}

}  // namespace tollgate
