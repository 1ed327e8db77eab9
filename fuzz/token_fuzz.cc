// libFuzzer target for the token core. Every input goes through every
// parser an unauthenticated caller (or a fetched JWKS) can reach:
//
//  1. AccessTokenVerifier::Verify of the input as a token, against the fixed
//     keys (fuzz/fixed_keys.h) at several times around the seed tokens'
//     validity window (leeway edges included).
//  2. The same with the input's first two segments re-signed with the fixed
//     HS256 key, so that mutated headers and payloads get past the signature
//     and reach the claim checks (an attacker cannot do that; a broken or
//     compromised issuer can, and the checks must still not crash). Also
//     against a set holding only that key, where a token without kid is
//     verified with the only key.
//  3. If the input holds a newline: "<header JSON>\n<payload JSON>" signed
//     with the HS256 key, so the fuzzer can mutate the JSON directly instead
//     of through base64url; against both sets as in 2.
//  4. Base64UrlDecode, with encode(decode(x)) == x and decode(encode(x)) == x.
//  5. ParseStrictJsonObject, with dump -> parse giving the same value.
//  6. JwkSet::FromJson, with its public JWKS parsing back to the same keys
//     and never carrying private members.
//
// A broken property calls abort(), which libFuzzer reports as a crash.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/token/access_token_verifier.h"
#include "common/token/base64url.h"
#include "common/token/jwk_set.h"
#include "common/token/jws.h"
#include "common/token/strict_json.h"
#include "fuzz/fixed_keys.h"
#include "nlohmann/json.hpp"

namespace tollgate::fuzz {
namespace {

constexpr int64_t kLeewaySeconds = 30;  // AccessTokenVerifierOptions' default
constexpr int64_t kTtlSeconds = 900;    // AccessTokenOptions' default

// Around the seed tokens' window [iat - leeway, exp + leeway): both edges
// from each side, plus the extremes of the accepted NumericDate range.
constexpr int64_t kNows[] = {
    kSeedIssuedAt,
    kSeedIssuedAt - kLeewaySeconds - 1,
    kSeedIssuedAt - kLeewaySeconds,
    kSeedIssuedAt + kTtlSeconds + kLeewaySeconds - 1,
    kSeedIssuedAt + kTtlSeconds + kLeewaySeconds,
    0,
    kMaxNumericDate,
};

[[noreturn]] void Fail(const char* property) {
  std::fprintf(stderr, "token_fuzz: property broken: %s\n", property);
  std::abort();
}

const AccessTokenVerifier& Verifier() {
  static const AccessTokenVerifier* const verifier =
      new AccessTokenVerifier(AccessTokenVerifierOptions{});
  return *verifier;
}

// Only the HS256 key.
const JwkSet& Hs256OnlyKeySet() {
  static const JwkSet* const keys = [] {
    auto set = JwkSet::FromKeys({FixedKey("fuzz-hs256")});
    if (!set.ok()) Fail("cannot build the one-key set");
    return new JwkSet(*std::move(set));
  }();
  return *keys;
}

// Verifies `token` at every time in kNows and checks what an Identity
// promises.
void VerifyAtSeveralTimes(std::string_view token, const JwkSet& keys) {
  for (const int64_t now : kNows) {
    const auto result = Verifier().Verify(token, keys, now);
    if (!result.ok()) {
      if (ToString(result.error()).empty()) Fail("TokenError without text");
      // Only the time checks depend on `now`; any other refusal is final.
      if (result.error() != TokenError::kExpired && result.error() != TokenError::kNotYetValid) {
        return;
      }
      continue;
    }
    const Identity& identity = result.value();
    if (identity.subject().empty()) Fail("verified token with an empty sub");
    if (identity.token_id().empty()) Fail("verified token with an empty jti");
    if (identity.expires_at_unix_seconds() < 0 ||
        identity.expires_at_unix_seconds() > kMaxNumericDate) {
      Fail("verified token with an absurd exp");
    }
    if (now >= identity.expires_at_unix_seconds() + kLeewaySeconds) {
      Fail("verified a token past exp + leeway");
    }
  }
}

// Input's "header.payload" part, signed with the fixed HS256 key.
void VerifyResigned(std::string_view input) {
  const size_t first_dot = input.find('.');
  if (first_dot == std::string_view::npos) return;
  const size_t second_dot = input.find('.', first_dot + 1);
  const std::string_view signing_input = input.substr(0, second_dot);
  auto tag = JwsSign(FixedKey("fuzz-hs256"), signing_input);
  if (!tag.ok()) Fail("HS256 signing failed");
  const std::string token = std::string(signing_input) + "." + Base64UrlEncode(*tag);
  VerifyAtSeveralTimes(token, FixedKeySet());
  VerifyAtSeveralTimes(token, Hs256OnlyKeySet());
}

// "<header JSON>\n<payload JSON>", encoded and signed with the HS256 key.
void VerifyJsonPair(std::string_view input) {
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return;
  auto token = JwsSignCompact(FixedKey("fuzz-hs256"), input.substr(0, newline),
                              input.substr(newline + 1));
  if (!token.ok()) Fail("HS256 signing failed");
  VerifyAtSeveralTimes(*token, FixedKeySet());
  VerifyAtSeveralTimes(*token, Hs256OnlyKeySet());
}

void CheckBase64Url(std::string_view input) {
  if (const auto decoded = Base64UrlDecode(input)) {
    // Strict decoding means one encoding per byte string.
    if (Base64UrlEncode(*decoded) != input) Fail("encode(decode(x)) != x");
  }
  const auto round_trip = Base64UrlDecode(Base64UrlEncode(input));
  if (!round_trip || *round_trip != input) Fail("decode(encode(x)) != x");
}

void CheckStrictJson(std::string_view input) {
  const auto parsed = ParseStrictJsonObject(input);
  if (!parsed.ok()) {
    if (parsed.error() != TokenError::kMalformed &&
        parsed.error() != TokenError::kDuplicateMember) {
      Fail("ParseStrictJsonObject returned an unexpected error");
    }
    return;
  }
  if (!parsed.value().is_object()) Fail("ParseStrictJsonObject accepted a non-object");
  const auto reparsed = ParseStrictJsonObject(parsed.value().dump());
  if (!reparsed.ok() || reparsed.value() != parsed.value()) Fail("dump -> parse changed the value");
}

void CheckJwkSet(std::string_view input) {
  const auto set = JwkSet::FromJson(input);
  if (!set.ok()) return;
  const std::string published = set->ToPublicJson();
  const auto document = ParseStrictJsonObject(published);
  if (!document.ok()) Fail("ToPublicJson is not a strict JSON object");
  for (const auto& jwk : document.value().at("keys")) {
    // Private RSA/EC/OKP members and an oct secret must never be published.
    for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
      if (jwk.contains(member)) Fail("public JWKS carries a private member");
    }
  }
  const auto republished = JwkSet::FromJson(published);
  if (!republished.ok()) Fail("public JWKS does not parse back");
  size_t asymmetric = 0;
  for (const Jwk& key : set->keys()) {
    if (key.is_symmetric()) continue;
    ++asymmetric;
    const Jwk* again = republished->Find(key.kid());
    if (again == nullptr || again->algorithm() != key.algorithm() ||
        again->thumbprint() != key.thumbprint() || again->has_private_key()) {
      Fail("public JWKS does not give back the same public keys");
    }
  }
  if (republished->keys().size() != asymmetric) Fail("public JWKS has extra keys");
}

}  // namespace
}  // namespace tollgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tollgate::fuzz;  // NOLINT: entry point only
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  VerifyAtSeveralTimes(input, FixedKeySet());
  VerifyResigned(input);
  VerifyJsonPair(input);
  CheckBase64Url(input);
  CheckStrictJson(input);
  CheckJwkSet(input);
  return 0;
}
