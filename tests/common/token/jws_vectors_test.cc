// The published JOSE examples, byte for byte: RFC 7515 appendix A (HS256,
// RS256, ES256, unsecured), RFC 8037 appendix A (Ed25519) and the RFC 7638
// section 3.1 thumbprint. Deterministic algorithms (HS256, RS256 PKCS#1 v1.5,
// Ed25519) must reproduce the RFC signatures exactly; randomized ES256 can
// only be verified. A wrong byte in any key or token below makes a check
// fail, so these constants check themselves.
#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"
#include "common/token/access_token_verifier.h"
#include "common/token/base64url.h"
#include "common/token/jwk.h"
#include "common/token/jwk_set.h"
#include "common/token/jws.h"
#include "common/token/token_error.h"
#include "nlohmann/json.hpp"

namespace tollgate {
namespace {

// ---------------------------------------------------------------------------
// RFC 7515 appendix A. Every token there signs the same payload (A.1.1):
//   {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
// (with the CR LF pairs and the spaces: the signature covers those bytes).
// ---------------------------------------------------------------------------

constexpr int64_t kRfc7515Exp = 1300819380;

// A.1.1: the HMAC key (an oct JWK, 64 bytes).
constexpr std::string_view kRfc7515A1Jwk =
    R"({"kty":"oct",)"
    R"("k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})";

// A.1.1, HS256.
// header:  {"typ":"JWT",\r\n "alg":"HS256"}
// payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515A1Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// A.2.1: the RSA private key (2048 bits, e = 65537).
constexpr std::string_view kRfc7515A2Jwk =
    R"({"kty":"RSA",)"
    R"("n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx)"
    R"(HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs)"
    R"(D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH)"
    R"(SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV)"
    R"(MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8)"
    R"(NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",)"
    R"("e":"AQAB",)"
    R"("d":"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97I)"
    R"(jlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0)"
    R"(BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn)"
    R"(439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYT)"
    R"(CBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLh)"
    R"(BOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",)"
    R"("p":"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdi)"
    R"(YrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPG)"
    R"(BY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",)"
    R"("q":"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxa)"
    R"(ewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA)"
    R"(-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",)"
    R"("dp":"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3Q)"
    R"(CLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb)"
    R"(34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",)"
    R"("dq":"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa)"
    R"(7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-ky)"
    R"(NlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",)"
    R"("qi":"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2o)"
    R"(y26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLU)"
    R"(W0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"})";

// A.2.1, RS256.
// header:  {"alg":"RS256"}
// payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515A2Token =
    "eyJhbGciOiJSUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

// A.3.1: the P-256 private key.
constexpr std::string_view kRfc7515A3Jwk =
    R"({"kty":"EC",)"
    R"("crv":"P-256",)"
    R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
    R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",)"
    R"("d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})";

// A.3.1, ES256 (the signature is the 64-byte R || S of RFC 7518 3.4).
// header:  {"alg":"ES256"}
// payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515A3Token =
    "eyJhbGciOiJFUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

// A.5, an Unsecured JWS: alg "none" and an empty signature segment.
// header:  {"alg":"none"}
// payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515A5Token =
    "eyJhbGciOiJub25lIn0"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".";

// ---------------------------------------------------------------------------
// RFC 8037 appendix A (Ed25519).
// ---------------------------------------------------------------------------

// A.1: the private key.
constexpr std::string_view kRfc8037A1Jwk =
    R"({"kty":"OKP","crv":"Ed25519",)"
    R"("d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",)"
    R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";

// A.2: its public key.
constexpr std::string_view kRfc8037A2Jwk =
    R"({"kty":"OKP","crv":"Ed25519",)"
    R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";

// A.3: the RFC 7638 thumbprint of the A.2 key.
constexpr std::string_view kRfc8037A3Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

// A.4, EdDSA. The payload is plain text, not a JSON object.
// header:  {"alg":"EdDSA"}
// payload: Example of Ed25519 signing
constexpr std::string_view kRfc8037A4Header = R"({"alg":"EdDSA"})";
constexpr std::string_view kRfc8037A4Payload = "Example of Ed25519 signing";
constexpr std::string_view kRfc8037A4Token =
    "eyJhbGciOiJFZERTQSJ9"
    "."
    "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    "."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// ---------------------------------------------------------------------------
// RFC 7638 section 3.1: an RSA public key and its thumbprint.
// ---------------------------------------------------------------------------

constexpr std::string_view kRfc7638Jwk =
    R"({"kty":"RSA",)"
    R"("n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbf)"
    R"(AAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMst)"
    R"(n64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2)"
    R"(QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbI)"
    R"(SD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqb)"
    R"(w0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",)"
    R"("e":"AQAB",)"
    R"("alg":"RS256",)"
    R"("kid":"2011-04-29"})";

constexpr std::string_view kRfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

// The three segments of a compact JWS (the tokens above are well formed).
struct Segments {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // header "." payload, as received
};

Segments Split(std::string_view token) {
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  return Segments{token.substr(0, first), token.substr(first + 1, second - first - 1),
                  token.substr(second + 1), token.substr(0, second)};
}

std::string DecodeOrEmpty(std::string_view base64url) {
  auto bytes = Base64UrlDecode(base64url);
  EXPECT_TRUE(bytes.has_value()) << "not strict base64url: " << base64url;
  return bytes.value_or("");
}

// One DER INTEGER holding the unsigned big-endian `magnitude`: minimal
// length, with a 0x00 in front when the top bit is set (X.690 8.3).
std::string DerInteger(std::string_view magnitude) {
  while (magnitude.size() > 1 && magnitude.front() == '\0') magnitude.remove_prefix(1);
  std::string content(magnitude);
  if (static_cast<uint8_t>(content.front()) & 0x80) content.insert(content.begin(), '\0');
  std::string out;
  out.push_back('\x02');
  out.push_back(static_cast<char>(content.size()));
  return out + content;
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, from a raw r || s.
std::string RawP256SignatureToDer(std::string_view raw) {
  const std::string body = DerInteger(raw.substr(0, 32)) + DerInteger(raw.substr(32, 32));
  std::string out;
  out.push_back('\x30');
  out.push_back(static_cast<char>(body.size()));  // < 128 for P-256
  return out + body;
}

class JwsVectorsTest : public ::testing::Test {
 protected:
  static absl::StatusOr<Jwk> Import(std::string_view jwk_text) {
    return Jwk::FromJson(nlohmann::json::parse(jwk_text));
  }

  static absl::StatusOr<JwkSet> SetOf(std::string_view jwk_text) {
    auto key = Import(jwk_text);
    if (!key.ok()) return key.status();
    return JwkSet::FromKeys({*std::move(key)});
  }

  // The RFC 7515 A.1.1 claims, as every appendix A token carries them.
  static void ExpectRfc7515Claims(const nlohmann::json& payload) {
    EXPECT_EQ(payload.size(), 3u);
    EXPECT_EQ(payload.value("iss", ""), "joe");
    ASSERT_TRUE(payload.contains("exp"));
    EXPECT_TRUE(payload["exp"].is_number_integer());
    EXPECT_EQ(payload["exp"].get<int64_t>(), kRfc7515Exp);
    ASSERT_TRUE(payload.contains("http://example.com/is_root"));
    EXPECT_EQ(payload["http://example.com/is_root"], true);
  }
};

// --- RFC 7515 A.1: HS256 ----------------------------------------------------

TEST_F(JwsVectorsTest, Rfc7515A1HeaderBytesCarryCrLf) {
  // The point of this vector: the signed header is not what a JSON library
  // would print, so a verifier that re-serializes it cannot match.
  const Segments segments = Split(kRfc7515A1Token);
  EXPECT_EQ(DecodeOrEmpty(segments.header), "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
  EXPECT_EQ(DecodeOrEmpty(segments.payload),
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
}

TEST_F(JwsVectorsTest, Rfc7515A1VerifiesOverTheReceivedBytes) {
  const auto keys = SetOf(kRfc7515A1Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->keys().front().algorithm(), JwsAlgorithm::kHS256);

  const auto verified = JwsVerifyCompact(kRfc7515A1Token, *keys);
  ASSERT_TRUE(verified.ok()) << ToString(verified.error());
  EXPECT_EQ(verified.value().key, &keys->keys().front());
  EXPECT_EQ(verified.value().header, (nlohmann::json{{"typ", "JWT"}, {"alg", "HS256"}}));
  ExpectRfc7515Claims(verified.value().payload);
}

TEST_F(JwsVectorsTest, Rfc7515A1BytesAreTheReceivedHeaderAndPayload) {
  const auto keys = SetOf(kRfc7515A1Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const auto verified = JwsVerifyCompactBytes(kRfc7515A1Token, *keys);
  ASSERT_TRUE(verified.ok()) << ToString(verified.error());
  EXPECT_EQ(verified.value().key, &keys->keys().front());
  const Segments segments = Split(kRfc7515A1Token);
  EXPECT_EQ(verified.value().header, DecodeOrEmpty(segments.header));
  EXPECT_EQ(verified.value().payload, DecodeOrEmpty(segments.payload));
}

TEST_F(JwsVectorsTest, Rfc7515A1SignatureDoesNotCoverAReserializedHeader) {
  const auto keys = SetOf(kRfc7515A1Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const Segments segments = Split(kRfc7515A1Token);
  // Same header members, compact and reordered ({"alg":"HS256","typ":"JWT"}).
  const std::string reserialized_header =
      nlohmann::json::parse(DecodeOrEmpty(segments.header)).dump();
  ASSERT_NE(reserialized_header, DecodeOrEmpty(segments.header));
  const std::string token = Base64UrlEncode(reserialized_header) + "." +
                            std::string(segments.payload) + "." +
                            std::string(segments.signature);

  const auto verified = JwsVerifyCompact(token, *keys);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error(), TokenError::kBadSignature);
}

TEST_F(JwsVectorsTest, Rfc7515A1ExpiresExactlyAtExp) {
  const auto keys = SetOf(kRfc7515A1Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const auto verified = JwsVerifyCompact(kRfc7515A1Token, *keys);
  ASSERT_TRUE(verified.ok()) << ToString(verified.error());
  const nlohmann::json& claims = verified.value().payload;

  // No leeway: valid up to exp - 1, expired from exp on (now >= exp + leeway).
  EXPECT_EQ(CheckTimeClaims(claims, kRfc7515Exp - 1, 0), std::nullopt);
  EXPECT_EQ(CheckTimeClaims(claims, kRfc7515Exp, 0), TokenError::kExpired);
  EXPECT_EQ(CheckTimeClaims(claims, kRfc7515Exp + 1, 0), TokenError::kExpired);

  // With leeway the edge moves by exactly the leeway.
  constexpr int64_t kLeeway = 30;
  EXPECT_EQ(CheckTimeClaims(claims, kRfc7515Exp + kLeeway - 1, kLeeway), std::nullopt);
  EXPECT_EQ(CheckTimeClaims(claims, kRfc7515Exp + kLeeway, kLeeway), TokenError::kExpired);
}

TEST_F(JwsVectorsTest, Rfc7515A1HmacSigningReproducesTheRfcSignature) {
  const auto key = Import(kRfc7515A1Jwk);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->secret().size(), 64u);
  const Segments segments = Split(kRfc7515A1Token);

  // Sign the RFC's signing input as is: re-serializing its header would
  // lose the CR LF and change the MAC.
  const auto signature = JwsSign(*key, segments.signing_input);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(*signature, DecodeOrEmpty(segments.signature));
  EXPECT_EQ(Base64UrlEncode(*signature), segments.signature);
}

// --- RFC 7515 A.2: RS256 ----------------------------------------------------

TEST_F(JwsVectorsTest, Rfc7515A2ImportsTheRsaPrivateKey) {
  const auto key = Import(kRfc7515A2Jwk);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kRS256);
  EXPECT_TRUE(key->has_private_key());
  EXPECT_EQ(EVP_PKEY_get_bits(key->pkey()), 2048);
  // No kid in the JWK: it defaults to the thumbprint.
  EXPECT_EQ(key->kid(), key->thumbprint());
  const auto public_jwk = key->ToPublicJson();
  ASSERT_TRUE(public_jwk.has_value());
  EXPECT_FALSE(public_jwk->contains("d"));
  EXPECT_FALSE(public_jwk->contains("p"));
  EXPECT_EQ(public_jwk->value("n", ""), nlohmann::json::parse(kRfc7515A2Jwk)["n"]);
}

TEST_F(JwsVectorsTest, Rfc7515A2VerifiesTheRfcToken) {
  const auto keys = SetOf(kRfc7515A2Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const auto verified = JwsVerifyCompact(kRfc7515A2Token, *keys);
  ASSERT_TRUE(verified.ok()) << ToString(verified.error());
  EXPECT_EQ(verified.value().header, (nlohmann::json{{"alg", "RS256"}}));
  ExpectRfc7515Claims(verified.value().payload);
}

TEST_F(JwsVectorsTest, Rfc7515A2RsaSigningReproducesTheRfcSignature) {
  // RSASSA-PKCS1-v1_5 has no randomness: same key and input, same bytes.
  const auto key = Import(kRfc7515A2Jwk);
  ASSERT_TRUE(key.ok()) << key.status();
  const Segments segments = Split(kRfc7515A2Token);
  const auto signature = JwsSign(*key, segments.signing_input);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(signature->size(), 256u);
  EXPECT_EQ(Base64UrlEncode(*signature), segments.signature);
}

// --- RFC 7515 A.3: ES256 ----------------------------------------------------

TEST_F(JwsVectorsTest, Rfc7515A3VerifiesTheRfcToken) {
  const auto keys = SetOf(kRfc7515A3Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->keys().front().algorithm(), JwsAlgorithm::kES256);
  EXPECT_TRUE(keys->keys().front().has_private_key());

  const auto verified = JwsVerifyCompact(kRfc7515A3Token, *keys);
  ASSERT_TRUE(verified.ok()) << ToString(verified.error());
  EXPECT_EQ(verified.value().header, (nlohmann::json{{"alg", "ES256"}}));
  ExpectRfc7515Claims(verified.value().payload);
}

TEST_F(JwsVectorsTest, Rfc7515A3RejectsAnyFlippedSignatureByte) {
  const auto keys = SetOf(kRfc7515A3Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const Segments segments = Split(kRfc7515A3Token);
  const std::string signature = DecodeOrEmpty(segments.signature);
  ASSERT_EQ(signature.size(), 64u);

  // First and last byte of R and of S.
  for (const size_t index : {0u, 31u, 32u, 63u}) {
    SCOPED_TRACE(::testing::Message() << "flipped byte " << index);
    std::string tampered = signature;
    tampered[index] = static_cast<char>(tampered[index] ^ 0x01);
    const std::string token =
        std::string(segments.signing_input) + "." + Base64UrlEncode(tampered);
    const auto verified = JwsVerifyCompact(token, *keys);
    ASSERT_FALSE(verified.ok());
    EXPECT_EQ(verified.error(), TokenError::kBadSignature);
  }
}

TEST_F(JwsVectorsTest, Rfc7515A3RejectsTheSameSignatureInDer) {
  const auto keys = SetOf(kRfc7515A3Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const Jwk& key = keys->keys().front();
  const Segments segments = Split(kRfc7515A3Token);
  const std::string der = RawP256SignatureToDer(DecodeOrEmpty(segments.signature));
  ASSERT_NE(der.size(), 64u);

  // The DER form is the very same (r, s): OpenSSL itself accepts it...
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  ASSERT_TRUE(ctx);
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey()), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()),
                             der.size(),
                             reinterpret_cast<const unsigned char*>(segments.signing_input.data()),
                             segments.signing_input.size()),
            1);

  // ...but JWS allows only the fixed 64-byte R || S, so one signature has
  // one encoding.
  EXPECT_FALSE(JwsVerify(key, segments.signing_input, der));
  const std::string token = std::string(segments.signing_input) + "." + Base64UrlEncode(der);
  const auto verified = JwsVerifyCompact(token, *keys);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error(), TokenError::kBadSignature);
}

// --- RFC 7515 A.5: unsecured ------------------------------------------------

TEST_F(JwsVectorsTest, Rfc7515A5UnsecuredJwsIsRefused) {
  const Segments segments = Split(kRfc7515A5Token);
  EXPECT_EQ(DecodeOrEmpty(segments.header), R"({"alg":"none"})");
  EXPECT_TRUE(segments.signature.empty());

  // Any key set: alg "none" is refused before a key is even looked up.
  const auto keys = SetOf(kRfc7515A1Jwk);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const auto verified = JwsVerifyCompact(kRfc7515A5Token, *keys);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error(), TokenError::kUnsecuredAlgorithm);

  const auto with_no_keys = JwsVerifyCompact(kRfc7515A5Token, JwkSet());
  ASSERT_FALSE(with_no_keys.ok());
  EXPECT_EQ(with_no_keys.error(), TokenError::kUnsecuredAlgorithm);
}

// --- RFC 8037 A.1-A.4: Ed25519 ----------------------------------------------

TEST_F(JwsVectorsTest, Rfc8037A1PrivateKeyDerivesTheA2PublicKey) {
  const auto private_key = Import(kRfc8037A1Jwk);
  ASSERT_TRUE(private_key.ok()) << private_key.status();
  EXPECT_EQ(private_key->algorithm(), JwsAlgorithm::kEdDSA);
  EXPECT_TRUE(private_key->has_private_key());

  const auto public_key = Import(kRfc8037A2Jwk);
  ASSERT_TRUE(public_key.ok()) << public_key.status();
  EXPECT_EQ(public_key->algorithm(), JwsAlgorithm::kEdDSA);
  EXPECT_FALSE(public_key->has_private_key());

  const auto published = private_key->ToPublicJson();
  ASSERT_TRUE(published.has_value());
  EXPECT_EQ(published->value("x", ""), nlohmann::json::parse(kRfc8037A2Jwk)["x"]);
  EXPECT_FALSE(published->contains("d"));
}

TEST_F(JwsVectorsTest, Rfc8037A3Thumbprint) {
  const auto public_key = Import(kRfc8037A2Jwk);
  ASSERT_TRUE(public_key.ok()) << public_key.status();
  EXPECT_EQ(public_key->thumbprint(), kRfc8037A3Thumbprint);
  EXPECT_EQ(public_key->kid(), kRfc8037A3Thumbprint);  // no kid given: the thumbprint

  // The private JWK has the same required members, hence the same thumbprint.
  const auto private_key = Import(kRfc8037A1Jwk);
  ASSERT_TRUE(private_key.ok()) << private_key.status();
  EXPECT_EQ(private_key->thumbprint(), kRfc8037A3Thumbprint);
}

TEST_F(JwsVectorsTest, Rfc8037A4SigningReproducesTheRfcJws) {
  // Ed25519 is deterministic (RFC 8032): the compact JWS must match exactly.
  const auto private_key = Import(kRfc8037A1Jwk);
  ASSERT_TRUE(private_key.ok()) << private_key.status();
  const auto token = JwsSignCompact(*private_key, kRfc8037A4Header, kRfc8037A4Payload);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, kRfc8037A4Token);
}

TEST_F(JwsVectorsTest, Rfc8037A4VerifiesWithThePublicKey) {
  const auto public_key = Import(kRfc8037A2Jwk);
  ASSERT_TRUE(public_key.ok()) << public_key.status();
  const Segments segments = Split(kRfc8037A4Token);
  EXPECT_EQ(DecodeOrEmpty(segments.header), kRfc8037A4Header);
  EXPECT_EQ(DecodeOrEmpty(segments.payload), kRfc8037A4Payload);
  const std::string signature = DecodeOrEmpty(segments.signature);
  EXPECT_EQ(signature.size(), 64u);

  EXPECT_TRUE(JwsVerify(*public_key, segments.signing_input, signature));
  std::string tampered = signature;
  tampered[10] = static_cast<char>(tampered[10] ^ 0x01);
  EXPECT_FALSE(JwsVerify(*public_key, segments.signing_input, tampered));

  // Through the compact verifier: the signature checks out, and only then is
  // the payload refused, because plain text is not a JSON claims object.
  auto keys = JwkSet::FromKeys({*public_key});
  ASSERT_TRUE(keys.ok()) << keys.status();
  const auto verified = JwsVerifyCompact(kRfc8037A4Token, *keys);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error(), TokenError::kMalformed);
  const auto forged = JwsVerifyCompact(
      std::string(segments.signing_input) + "." + Base64UrlEncode(tampered), *keys);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error(), TokenError::kBadSignature);
}

// --- RFC 7638 3.1: thumbprint of an RSA key ---------------------------------

TEST_F(JwsVectorsTest, Rfc7638RsaThumbprint) {
  const auto key = Import(kRfc7638Jwk);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kRS256);
  EXPECT_FALSE(key->has_private_key());
  EXPECT_EQ(key->thumbprint(), kRfc7638Thumbprint);
  // An explicit kid wins over the thumbprint; alg and kid are not hashed.
  EXPECT_EQ(key->kid(), "2011-04-29");
}

}  // namespace
}  // namespace tollgate
