#include "common/token/access_token_verifier.h"

#include "common/token/jws.h"
#include "common/token/strict_json.h"

namespace tollgate {
namespace {

constexpr std::string_view kAccessTokenType = "at+jwt";

using Kind = FlatJsonMember::Kind;

// A NumericDate claim, from its JSON kind and value. Floats, booleans and
// strings are refused: 1.7e9 and "1700000000" are parsed differently by
// different libraries.
TokenResult<std::optional<int64_t>> NumericDate(Kind kind, uint64_t unsigned_value,
                                                int64_t integer_value) {
  if (kind == Kind::kUnsigned) {
    if (unsigned_value > static_cast<uint64_t>(kMaxNumericDate)) {
      return TokenError::kInvalidTimeClaim;
    }
    return std::optional<int64_t>(static_cast<int64_t>(unsigned_value));
  }
  if (kind == Kind::kInteger) {  // "-0" is the only one that is not negative
    if (integer_value < 0 || integer_value > kMaxNumericDate) return TokenError::kInvalidTimeClaim;
    return std::optional<int64_t>(integer_value);
  }
  return TokenError::kInvalidTimeClaim;
}

// Reads a NumericDate claim. A missing claim is nullopt with no error.
TokenResult<std::optional<int64_t>> TimeClaim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::optional<int64_t>();
  if (it->is_number_unsigned()) return NumericDate(Kind::kUnsigned, it->get<uint64_t>(), 0);
  if (it->is_number_integer()) return NumericDate(Kind::kInteger, 0, it->get<int64_t>());
  return TokenError::kInvalidTimeClaim;
}
TokenResult<std::optional<int64_t>> TimeClaim(const FlatJsonObject& claims, const char* name) {
  const FlatJsonMember* member = claims.Find(name);
  if (member == nullptr) return std::optional<int64_t>();
  return NumericDate(member->kind, member->unsigned_value, member->integer_value);
}

// CheckTimeClaims for either form of the claims.
template <typename Claims>
std::optional<TokenError> CheckTimes(const Claims& claims, int64_t now_unix_seconds,
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

// A required non-empty string claim.
TokenResult<std::string_view> StringClaim(const FlatJsonObject& claims, const char* name) {
  const FlatJsonMember* member = claims.Find(name);
  if (member == nullptr) return TokenError::kMissingClaim;
  if (member->kind != Kind::kString || member->string.empty()) return TokenError::kInvalidClaim;
  return member->string;
}

}  // namespace

std::optional<TokenError> CheckTimeClaims(const nlohmann::json& claims, int64_t now_unix_seconds,
                                          int64_t leeway_seconds) {
  return CheckTimes(claims, now_unix_seconds, leeway_seconds);
}

AccessTokenVerifier::AccessTokenVerifier(AccessTokenVerifierOptions options)
    : options_(std::move(options)) {}

TokenResult<Identity> AccessTokenVerifier::Verify(std::string_view token, const JwkSet& keys,
                                                  int64_t now_unix_seconds) const {
  const auto jws = JwsVerifyCompactBytes(token, keys, kAccessTokenType);
  if (!jws.ok()) return jws.error();
  // The claims are read without a DOM; their views point into
  // jws.value().payload, which outlives them.
  const auto parsed = FlatJsonObject::Parse(jws.value().payload);
  if (!parsed.ok()) return parsed.error();
  const FlatJsonObject& claims = parsed.value();

  const auto issuer = StringClaim(claims, "iss");
  if (!issuer.ok()) return issuer.error();
  if (issuer.value() != options_.issuer) return TokenError::kWrongIssuer;

  // RFC 7519 section 4.1.3: aud is a string or an array of strings.
  const FlatJsonMember* aud = claims.Find("aud");
  if (aud == nullptr) return TokenError::kMissingClaim;
  bool audience_matches = false;
  if (aud->kind == Kind::kString) {
    audience_matches = aud->string == options_.audience;
  } else if (aud->kind == Kind::kArray) {
    if (!aud->only_strings) return TokenError::kInvalidClaim;
    for (const std::string_view entry : claims.Strings(*aud)) {
      audience_matches = audience_matches || entry == options_.audience;
    }
  } else {
    return TokenError::kInvalidClaim;
  }
  if (!audience_matches) return TokenError::kWrongAudience;

  if (claims.Find("iat") == nullptr) return TokenError::kMissingClaim;
  if (auto time_error = CheckTimes(claims, now_unix_seconds, options_.leeway_seconds)) {
    return *time_error;
  }

  Identity identity;
  const auto subject = StringClaim(claims, "sub");
  if (!subject.ok()) return subject.error();
  identity.subject_ = std::string(subject.value());
  const auto token_id = StringClaim(claims, "jti");
  if (!token_id.ok()) return token_id.error();
  identity.token_id_ = std::string(token_id.value());
  // CheckTimes accepted exp: present, an integer in [0, kMaxNumericDate].
  const FlatJsonMember* exp = claims.Find("exp");
  identity.expires_at_unix_seconds_ = exp->kind == Kind::kUnsigned
                                          ? static_cast<int64_t>(exp->unsigned_value)
                                          : exp->integer_value;

  if (const FlatJsonMember* email = claims.Find("email"); email != nullptr) {
    if (email->kind != Kind::kString) return TokenError::kInvalidClaim;
    identity.email_ = std::string(email->string);
  }
  if (const FlatJsonMember* roles = claims.Find("roles"); roles != nullptr) {
    if (roles->kind != Kind::kArray || !roles->only_strings) return TokenError::kInvalidClaim;
    const auto names = claims.Strings(*roles);
    identity.roles_.assign(names.begin(), names.end());
  }
  return identity;
}

}  // namespace tollgate
