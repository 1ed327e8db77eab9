// Writes the seed corpus of token_fuzz into a folder (fuzz/corpus/ in the
// repository): valid access tokens of every algorithm signed with the fixed
// keys, the classic attacks and edge cases of RFC 7515/7519, header+payload
// JSON pairs and JWK Sets. Each seed states the result it must get from
// AccessTokenVerifier::Verify (or JwkSet::FromJson); the tool checks that
// before writing and exits 1 on any surprise, so it is also a smoke test of
// the fixed keys.
//
//   token_fuzz_seeds <output folder>
//
// ES256 signatures are randomized, so regenerating changes those files.

#include <openssl/crypto.h>
#include <openssl/ec.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/openssl_ptr.h"
#include "common/random_source.h"
#include "common/token/access_token_issuer.h"
#include "common/token/access_token_verifier.h"
#include "common/token/base64url.h"
#include "common/token/jws.h"
#include "fuzz/fixed_keys.h"

namespace tollgate::fuzz {
namespace {

// Token ids of seeds do not need to be secret, only stable.
class FixedRandomSource final : public RandomSource {
 public:
  absl::StatusOr<std::string> Bytes(size_t count) override { return std::string(count, '\x5a'); }
};

struct Seed {
  std::string name;
  std::string content;
  // For tokens and JSON pairs: nullopt means "verifies".
  std::optional<TokenError> expected_error;
  bool is_jwks = false;
  bool jwks_valid = false;
};

constexpr int64_t kIat = kSeedIssuedAt;

std::string Header(std::string_view alg, std::string_view kid, std::string_view extra = "") {
  return "{\"alg\":\"" + std::string(alg) + "\",\"kid\":\"" + std::string(kid) +
         "\",\"typ\":\"at+jwt\"" + std::string(extra) + "}";
}

// Standard claims with `exp` as given (raw JSON text) and optional extras.
std::string Claims(std::string_view exp = "1700000900", std::string_view extra = "") {
  return "{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"user-1\",\"exp\":" +
         std::string(exp) +
         ",\"iat\":1700000000,\"nbf\":1700000000,\"jti\":\"seed-jti\",\"roles\":[\"user\"],"
         "\"email\":\"alice@example.com\"" +
         std::string(extra) + "}";
}

std::string Sign(std::string_view kid, std::string_view header, std::string_view payload) {
  auto token = JwsSignCompact(FixedKey(kid), header, payload);
  if (!token.ok()) {
    std::fprintf(stderr, "signing failed: %s\n", std::string(token.status().message()).c_str());
    std::exit(1);
  }
  return *token;
}

std::string Hs256(std::string_view header, std::string_view payload) {
  return Sign("fuzz-hs256", header, payload);
}
std::string Hs256Claims(std::string_view payload) {
  return Hs256(Header("HS256", "fuzz-hs256"), payload);
}

std::string Unsigned(std::string_view header, std::string_view payload) {
  return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + ".";
}

std::string ReplaceSignature(const std::string& token, std::string_view signature_bytes) {
  return token.substr(0, token.rfind('.') + 1) + Base64UrlEncode(signature_bytes);
}

std::string SignatureOf(const std::string& token) {
  return *Base64UrlDecode(std::string_view(token).substr(token.rfind('.') + 1));
}

// r||s -> DER, the form a confused signer might send instead of JWS's.
std::string RawEcdsaToDer(std::string_view raw) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSigPtr sig(ECDSA_SIG_new());
  ECDSA_SIG_set0(sig.get(), BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig.get(), &der);
  std::string out(reinterpret_cast<char*>(der), size);
  OPENSSL_free(der);
  return out;
}

std::string Issue(std::string_view kid) {
  FixedRandomSource random;
  const AccessTokenIssuer issuer(FixedKey(kid), AccessTokenOptions{}, random);
  auto issued = issuer.Issue(
      TokenSubject{"3f2a9c1e-7d4b-4e8a-9c51-2b7e6d0f1a84", "alice@example.com", {"user", "admin"}},
      kIat);
  if (!issued.ok()) std::exit(1);
  return issued->token;
}

std::vector<Seed> Seeds() {
  using E = TokenError;
  std::vector<Seed> seeds;
  auto token = [&](std::string name, std::string content, std::optional<TokenError> error) {
    seeds.push_back(Seed{"token-" + name, std::move(content), error});
  };
  auto pair = [&](std::string name, std::string_view header, std::string_view payload,
                  std::optional<TokenError> error) {
    seeds.push_back(Seed{"pair-" + name, std::string(header) + "\n" + std::string(payload), error});
  };
  auto jwks = [&](std::string name, std::string content, bool valid) {
    seeds.push_back(Seed{"jwks-" + name, std::move(content), std::nullopt, true, valid});
  };

  const std::string es256 = Issue("fuzz-es256");
  token("valid-es256", es256, std::nullopt);
  token("valid-eddsa", Issue("fuzz-eddsa"), std::nullopt);
  token("valid-rs256", Issue("fuzz-rs256"), std::nullopt);
  token("valid-hs256", Issue("fuzz-hs256"), std::nullopt);
  token("valid-typ-media-type",
        Hs256("{\"alg\":\"HS256\",\"kid\":\"fuzz-hs256\",\"typ\":\"application/AT+JWT\"}",
              Claims()),
        std::nullopt);
  token("valid-aud-array",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":[\"other\",\"tollgate\"],\"sub\":\"u\","
                    "\"exp\":1700000900,\"iat\":1700000000,\"jti\":\"j\"}"),
        std::nullopt);
  token("valid-minimal-claims",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"u\",\"exp\":1700000900,"
                    "\"iat\":1700000000,\"jti\":\"j\"}"),
        std::nullopt);

  // Header attacks (RFC 7515 and the usual JWT library bugs).
  token("alg-none", Unsigned("{\"alg\":\"none\",\"typ\":\"at+jwt\"}", Claims()),
        E::kUnsecuredAlgorithm);
  token("alg-none-mixed-case",
        Unsigned("{\"alg\":\"nOnE\",\"kid\":\"fuzz-hs256\",\"typ\":\"at+jwt\"}", Claims()) + "AAAA",
        E::kUnsecuredAlgorithm);
  token("alg-missing", Hs256("{\"kid\":\"fuzz-hs256\",\"typ\":\"at+jwt\"}", Claims()),
        E::kUnsupportedAlgorithm);
  token("alg-ps256", Hs256(Header("PS256", "fuzz-rs256"), Claims()), E::kUnsupportedAlgorithm);
  // The classic confusion: HMAC "signed" for an RSA key id.
  token("alg-hs256-with-rs256-kid", Hs256(Header("HS256", "fuzz-rs256"), Claims()),
        E::kAlgorithmMismatch);
  token("crit", Sign("fuzz-es256", Header("ES256", "fuzz-es256", ",\"crit\":[\"exp\"]"), Claims()),
        E::kUnknownCritical);
  token("jku",
        Sign("fuzz-es256",
             Header("ES256", "fuzz-es256", ",\"jku\":\"https://attacker.example/jwks.json\""),
             Claims()),
        E::kEmbeddedKey);
  token("x5u",
        Sign("fuzz-rs256", Header("RS256", "fuzz-rs256", ",\"x5u\":\"https://attacker.example/c\""),
             Claims()),
        E::kEmbeddedKey);
  token("jwk-embedded",
        Sign("fuzz-es256",
             Header("ES256", "fuzz-es256",
                    ",\"jwk\":" + FixedKey("fuzz-es256").ToPublicJson()->dump()),
             Claims()),
        E::kEmbeddedKey);
  token("typ-jwt",
        Hs256("{\"alg\":\"HS256\",\"kid\":\"fuzz-hs256\",\"typ\":\"JWT\"}", Claims()),
        E::kWrongType);
  token("typ-missing", Hs256("{\"alg\":\"HS256\",\"kid\":\"fuzz-hs256\"}", Claims()),
        E::kWrongType);
  token("kid-unknown", Hs256(Header("HS256", "rotated-away"), Claims()), E::kUnknownKid);
  token("kid-missing", Hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", Claims()), E::kUnknownKid);
  token("kid-number", Hs256("{\"alg\":\"HS256\",\"kid\":7,\"typ\":\"at+jwt\"}", Claims()),
        E::kMalformed);
  token("duplicate-header-alg",
        Hs256("{\"alg\":\"HS256\",\"kid\":\"fuzz-hs256\",\"typ\":\"at+jwt\",\"alg\":\"none\"}",
              Claims()),
        E::kDuplicateMember);
  token("duplicate-header-escaped",
        Hs256("{\"alg\":\"HS256\",\"kid\":\"fuzz-hs256\",\"typ\":\"at+jwt\",\"\\u006bid\":\"x\"}",
              Claims()),
        E::kDuplicateMember);

  // Signature and encoding.
  std::string flipped = SignatureOf(es256);
  flipped[10] ^= 0x01;
  token("bad-signature-es256", ReplaceSignature(es256, flipped), E::kBadSignature);
  token("es256-der-signature", ReplaceSignature(es256, RawEcdsaToDer(SignatureOf(es256))),
        E::kBadSignature);
  token("signature-empty-hs256", ReplaceSignature(Hs256Claims(Claims()), ""), E::kBadSignature);
  const std::string hs = Hs256Claims(Claims());
  token("base64-padding", hs.substr(0, hs.find('.')) + "==" + hs.substr(hs.find('.')),
        E::kMalformed);
  token("base64-std-alphabet", "+" + hs.substr(1), E::kMalformed);
  token("two-segments", hs.substr(0, hs.rfind('.')), E::kMalformed);
  token("four-segments", hs + ".AAAA", E::kMalformed);

  // Claims (signed, so the checks after the signature are reached).
  token("duplicate-payload-sub", Hs256Claims(Claims("1700000900", ",\"sub\":\"admin\"")),
        E::kDuplicateMember);
  token("duplicate-nested",
        Hs256Claims(Claims("1700000900", ",\"ext\":[{\"a\":1,\"a\":2}]")), E::kDuplicateMember);
  token("exp-huge", Sign("fuzz-es256", Header("ES256", "fuzz-es256"), Claims("99999999999999999999")),
        E::kInvalidTimeClaim);
  token("exp-after-9999", Hs256Claims(Claims("253402300800")), E::kInvalidTimeClaim);
  token("exp-float", Hs256Claims(Claims("1700000900.0")), E::kInvalidTimeClaim);
  token("exp-exponent", Hs256Claims(Claims("1.7000009e9")), E::kInvalidTimeClaim);
  token("exp-string", Hs256Claims(Claims("\"1700000900\"")), E::kInvalidTimeClaim);
  token("exp-negative", Hs256Claims(Claims("-1")), E::kInvalidTimeClaim);
  token("exp-missing",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"u\",\"iat\":1700000000,"
                    "\"jti\":\"j\"}"),
        E::kMissingClaim);
  token("iat-missing",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"u\",\"exp\":1700000900,"
                    "\"jti\":\"j\"}"),
        E::kMissingClaim);
  token("expired", Hs256Claims(Claims("1699990000")), E::kExpired);
  token("nbf-future",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"u\",\"exp\":1700009000,"
                    "\"iat\":1700000000,\"nbf\":1700003600,\"jti\":\"j\"}"),
        E::kNotYetValid);
  token("iss-wrong",
        Hs256Claims("{\"iss\":\"evil\",\"aud\":\"tollgate\",\"sub\":\"u\",\"exp\":1700000900,"
                    "\"iat\":1700000000,\"jti\":\"j\"}"),
        E::kWrongIssuer);
  token("aud-wrong",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":[\"other\"],\"sub\":\"u\",\"exp\":1700000900,"
                    "\"iat\":1700000000,\"jti\":\"j\"}"),
        E::kWrongAudience);
  token("aud-array-non-string",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":[\"tollgate\",1],\"sub\":\"u\","
                    "\"exp\":1700000900,\"iat\":1700000000,\"jti\":\"j\"}"),
        E::kInvalidClaim);
  token("sub-empty",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"\",\"exp\":1700000900,"
                    "\"iat\":1700000000,\"jti\":\"j\"}"),
        E::kInvalidClaim);
  token("roles-not-array",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"u\",\"exp\":1700000900,"
                    "\"iat\":1700000000,\"jti\":\"j\",\"roles\":\"admin\"}"),
        E::kInvalidClaim);
  token("roles-number-inside",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"u\",\"exp\":1700000900,"
                    "\"iat\":1700000000,\"jti\":\"j\",\"roles\":[\"user\",0]}"),
        E::kInvalidClaim);
  token("email-number",
        Hs256Claims("{\"iss\":\"tollgate\",\"aud\":\"tollgate\",\"sub\":\"u\",\"exp\":1700000900,"
                    "\"iat\":1700000000,\"jti\":\"j\",\"email\":1}"),
        E::kInvalidClaim);
  token("payload-array", Hs256Claims("[1,2]"), E::kMalformed);
  token("payload-invalid-utf8", Hs256Claims(Claims("1700000900", ",\"x\":\"\xc3\x28\"")),
        E::kMalformed);

  // RFC 7519 section 3.1 (HS256, no kid, CRLF inside the JSON) and RFC 7515
  // appendix A.5 (unsecured).
  token("rfc7519-example",
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        E::kWrongType);
  token("rfc7515-unsecured",
        "eyJhbGciOiJub25lIn0."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.",
        E::kUnsecuredAlgorithm);

  // Header and payload as plain JSON (token_fuzz signs them with HS256).
  pair("valid-hs256", Header("HS256", "fuzz-hs256"), Claims(), std::nullopt);
  pair("exp-float", Header("HS256", "fuzz-hs256"), Claims("1.7000009e9"), E::kInvalidTimeClaim);
  // No kid: unknown among four keys, token_fuzz's one-key set accepts it.
  pair("no-kid", "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", Claims(), E::kUnknownKid);
  pair("duplicate-kid", Header("HS256", "fuzz-hs256", ",\"kid\":\"fuzz-es256\""), Claims(),
       E::kDuplicateMember);

  // JWK Sets.
  jwks("public", FixedKeySet().ToPublicJson(), true);
  jwks("private-fixed", std::string(kFixedPrivateJwks), true);
  jwks("skipped-members",
       "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
       "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},{\"kty\":\"EC\",\"use\":\"enc\"},"
       "{\"kty\":\"PQC\"}," +
           FixedKey("fuzz-eddsa").ToPublicJson()->dump() + "]}",
       true);
  jwks("duplicate-kid",
       "{\"keys\":[" + FixedKey("fuzz-es256").ToPublicJson()->dump() + "," +
           FixedKey("fuzz-es256").ToPublicJson()->dump() + "]}",
       false);
  jwks("oct-claims-rs256",
       "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"RS256\",\"k\":\"" +
           Base64UrlEncode(FixedKey("fuzz-hs256").secret()) + "\"}]}",
       false);
  jwks("rsa-even-exponent",
       "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"Ag\",\"n\":" +
           FixedKey("fuzz-rs256").ToPublicJson()->at("n").dump() + "}]}",
       false);
  jwks("kid-number",
       "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":1,\"x\":" +
           FixedKey("fuzz-eddsa").ToPublicJson()->at("x").dump() + "}]}",
       false);
  jwks("ec-point-off-curve",
       "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
       "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}",
       false);
  return seeds;
}

std::string Describe(const std::optional<TokenError>& error) {
  return error ? std::string(ToString(*error)) : "ok";
}

}  // namespace
}  // namespace tollgate::fuzz

int main(int argc, char** argv) {
  using namespace tollgate;        // NOLINT: main only
  using namespace tollgate::fuzz;  // NOLINT: main only
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output folder>\n", argv[0]);
    return 2;
  }
  const AccessTokenVerifier verifier(AccessTokenVerifierOptions{});
  bool all_as_expected = true;
  for (const Seed& seed : Seeds()) {
    std::string got;
    std::string want;
    if (seed.is_jwks) {
      const auto set = JwkSet::FromJson(seed.content);
      got = set.ok() ? "valid" : "invalid";
      want = seed.jwks_valid ? "valid" : "invalid";
    } else {
      std::string token = seed.content;
      if (const size_t newline = token.find('\n'); newline != std::string::npos) {
        auto signed_pair = JwsSignCompact(FixedKey("fuzz-hs256"), token.substr(0, newline),
                                          token.substr(newline + 1));
        token = signed_pair.ok() ? *signed_pair : "";
      }
      const auto result = verifier.Verify(token, FixedKeySet(), kSeedIssuedAt);
      got = Describe(result.ok() ? std::nullopt : std::optional<TokenError>(result.error()));
      want = Describe(seed.expected_error);
    }
    const std::string verdict = got == want ? "" : "<- expected " + want;
    all_as_expected = all_as_expected && verdict.empty();
    std::printf("%-34s %-40s %s\n", seed.name.c_str(), got.c_str(), verdict.c_str());
    std::ofstream(std::string(argv[1]) + "/" + seed.name, std::ios::binary) << seed.content;
  }
  return all_as_expected ? 0 : 1;
}
