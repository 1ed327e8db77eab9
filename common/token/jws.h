#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/token/jwk.h"
#include "common/token/jwk_set.h"
#include "common/token/token_error.h"
#include "nlohmann/json.hpp"

namespace tollgate {

// Tokens longer than this are refused before any decoding, bounding the work
// an unauthenticated caller can cause.
inline constexpr size_t kMaxTokenBytes = 8192;

// The raw JWS signature of `signing_input` with `key`'s algorithm: 64-byte
// r||s for ES256 (RFC 7518 section 3.4, never DER), 64 bytes for EdDSA, the
// modulus size for RS256 (PKCS#1 v1.5), 32 bytes for HS256.
// FAILED_PRECONDITION if the key has no private part.
[[nodiscard]] absl::StatusOr<std::string> JwsSign(const Jwk& key, std::string_view signing_input);

// True iff `signature` is a valid signature of `signing_input` under `key`,
// in the raw JWS form described above. Wrong lengths are simply false.
bool JwsVerify(const Jwk& key, std::string_view signing_input, std::string_view signature);

// Compact serialization: base64url(header_json) "." base64url(payload) "."
// base64url(signature). Both inputs are encoded exactly as given.
[[nodiscard]] absl::StatusOr<std::string> JwsSignCompact(const Jwk& key, std::string_view header_json,
                                                         std::string_view payload);

// A JWS that passed every check of JwsVerifyCompact up to the signature;
// its payload is decoded but not parsed yet.
struct VerifiedJwsBytes {
  std::string header;   // the header JSON text
  std::string payload;  // the payload bytes
  const Jwk* key = nullptr;  // points into the JwkSet passed in
};

// A JWS whose header passed the rules below and whose signature verified.
struct VerifiedJws {
  nlohmann::json header;
  nlohmann::json payload;  // the payload parsed as a strict JSON object
  const Jwk* key = nullptr;  // points into the JwkSet passed in
};

// Verifies a compact JWS against `keys`, checking, in this order:
// size (kTooLarge); three segments, strict base64url, JSON-object header
// without duplicate members (kMalformed, kDuplicateMember); alg present and
// not "none" in any case (kUnsecuredAlgorithm, kUnsupportedAlgorithm); no
// jku/x5u/jwk/x5c (kEmbeddedKey); no crit (kUnknownCritical: we implement no
// extensions); typ equal to `required_type` when that is non-empty
// (kWrongType); the key by kid, or the only key when the token has no kid
// (kUnknownKid); alg equal to that key's algorithm (kAlgorithmMismatch); the
// signature over the received bytes (kBadSignature); then the payload as a
// strict JSON object. Claims are not looked at.
TokenResult<VerifiedJws> JwsVerifyCompact(std::string_view token, const JwkSet& keys,
                                          std::string_view required_type = {});

// JwsVerifyCompact without its last step: the same checks in the same order
// up to the signature and the payload's base64url, but the payload is left
// to the caller to parse, with FlatJsonObject::Parse or
// ParseStrictJsonObject (both refuse what JwsVerifyCompact refuses, with the
// same errors). AccessTokenVerifier reads the claims this way, without a
// DOM.
TokenResult<VerifiedJwsBytes> JwsVerifyCompactBytes(std::string_view token, const JwkSet& keys,
                                                    std::string_view required_type = {});

}  // namespace tollgate
